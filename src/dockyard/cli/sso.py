"""`dockyard login --sso`: signing in through the identity provider from the command line as RFC 8252
(OAuth 2.0 for native apps) says: the authorization code flow with PKCE (S256) in the user's browser,
the answer coming back to a loopback redirect, ``http://127.0.0.1:<random port>/callback``.

The CLI talks to the provider itself, as a *public* client: the server tells it the issuer and the
client id (``GET /api/v1/auth/sso``: ``issuer``, ``cli_client_id``), so no client secret is ever on
the user's machine and the server plays no part in the sign-in. What the CLI keeps is the provider's
ID token, which the server takes as a bearer token (its ``aud`` is that client id) until it expires.

Contracts of :func:`sign_in`:
- the state (256 random bits) must come back unchanged, and the ID token must name the issuer and
  carry the nonce sent (the token comes straight from the provider's token endpoint, so its signature
  is the server's to check, as it does on every request);
- only a request for ``/callback`` on the loopback counts: anything else (a browser's ``/favicon.ico``)
  is answered 404 and waited past; a connection that sends nothing is dropped after a few seconds;
- anything wrong — single sign-on off on the server or not offered to the CLI, the provider
  unreachable or refusing, the user denying, a state mismatch, no answer within ``timeout`` — is
  :class:`SignInFailed` with one line to print. The token is never printed nor in an error.

Standard library only, imported by `dockyard login --sso` alone (the CLI's other commands never load it).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import http.server
import json
import os
import secrets
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, cast
from urllib.parse import parse_qsl, urlencode, urlsplit

from dockyard.cli.client import ApiError
from dockyard.cli.transport import HttpTransport, TransportError

CALLBACK = "/callback"
REQUEST_SECONDS = 5.0  # a loopback connection that sends no request within this is dropped
_PROVIDER_TIMEOUT = 30.0


class SignInFailed(Exception):
    """The sign-in did not happen; ``str()`` is the one line to print. Nothing was saved."""


class Api(Protocol):
    """What :func:`sign_in` needs of :class:`dockyard.cli.client.Client`."""

    server: str

    def get(self, path: str, **params: Any) -> Any: ...


@dataclass(frozen=True)
class Offer:
    """What the server offers the CLI: the provider, the public client to sign in as, the scopes."""

    issuer: str
    client_id: str
    scopes: str


@dataclass(frozen=True)
class Attempt:
    """One sign-in's one-time values: the state, the nonce and the PKCE verifier (RFC 7636, 43+ chars)."""

    state: str
    nonce: str
    verifier: str

    @classmethod
    def new(cls) -> Attempt:
        return cls(state=secrets.token_urlsafe(32), nonce=secrets.token_urlsafe(32), verifier=secrets.token_urlsafe(48))

    @property
    def challenge(self) -> str:
        """``BASE64URL(SHA256(verifier))`` without padding: the S256 code challenge."""
        return base64.urlsafe_b64encode(hashlib.sha256(self.verifier.encode()).digest()).rstrip(b"=").decode()


def offer_of(answer: object, server: str) -> Offer:
    """The server's ``GET /api/v1/auth/sso`` answer as an :class:`Offer`; :class:`SignInFailed` when
    single sign-on is off there or not offered to the CLI."""
    if not isinstance(answer, Mapping) or not answer.get("enabled"):
        raise SignInFailed(f"single sign-on is not configured on {server}")
    issuer, client_id = answer.get("issuer"), answer.get("cli_client_id")
    if not isinstance(issuer, str) or not issuer or not isinstance(client_id, str) or not client_id:
        raise SignInFailed(
            f"{server} does not offer single sign-on to the CLI (its admin sets DOCKYARD_OIDC_CLI_CLIENT_ID); "
            "meanwhile use `dockyard login --token`"
        )
    scopes = answer.get("scopes")
    return Offer(issuer.rstrip("/"), client_id, scopes if isinstance(scopes, str) and scopes else "openid")


def authorization_url(endpoint: str, *, offer: Offer, redirect_uri: str, attempt: Attempt) -> str:
    """Where the browser goes to sign in: ``endpoint`` with the code flow's parameters."""
    scopes = offer.scopes.split()
    if "openid" not in scopes:
        scopes.insert(0, "openid")
    query = urlencode(
        {
            "response_type": "code",
            "client_id": offer.client_id,
            "redirect_uri": redirect_uri,
            "scope": " ".join(scopes),
            "state": attempt.state,
            "nonce": attempt.nonce,
            "code_challenge": attempt.challenge,
            "code_challenge_method": "S256",
        }
    )
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"


def code_of(query: Mapping[str, str], attempt: Attempt) -> str:
    """The authorization code of the provider's answer ``query`` (its redirect's parameters), after
    checking the state; :class:`SignInFailed` if it refused or the state is not this sign-in's."""
    if "error" in query:
        described = query.get("error_description", "")
        raise SignInFailed(
            f"the identity provider refused the sign-in: {query['error'][:100]}"
            + (f" ({described[:200]})" if described else "")
        )
    if not secrets.compare_digest(query.get("state", ""), attempt.state):
        raise SignInFailed("the answer's state is not this sign-in's (a stale or forged answer); nothing was saved")
    code = query.get("code", "")
    if not code:
        raise SignInFailed("the identity provider's answer holds no authorization code")
    return code


def claims_of(id_token: str) -> dict[str, Any]:
    """The claims of a compact JWS, unchecked (the server checks the signature); :class:`SignInFailed`
    if it is not one."""
    parts = id_token.split(".")
    try:
        if len(parts) != 3:
            raise ValueError("not three parts")
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error):
        raise SignInFailed("the identity provider's ID token is not a JWT") from None
    if not isinstance(claims, dict):
        raise SignInFailed("the identity provider's ID token is not a JWT")
    return claims


class Loopback:
    """The redirect's listener: ``http://127.0.0.1:<port>/callback`` on a port the system picks (only
    this machine can reach it). :meth:`wait` answers the browser's request and gives the code."""

    def __init__(self) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self.redirect_uri = f"http://127.0.0.1:{self._server.server_port}{CALLBACK}"

    def __enter__(self) -> Loopback:
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.server_close()

    def wait(self, attempt: Attempt, *, timeout: float) -> str:
        """The authorization code of the first request for ``/callback`` (checked by :func:`code_of`;
        the browser is told how it went); :class:`SignInFailed` if it is wrong or none comes within
        ``timeout`` seconds."""
        self._server.attempt = attempt
        deadline = time.monotonic() + timeout
        while self._server.outcome is None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise SignInFailed(f"no answer from the browser within {timeout:g} s; run `dockyard login --sso` again")
            self._server.timeout = left
            self._server.handle_request()
        if isinstance(self._server.outcome, SignInFailed):
            raise self._server.outcome
        return self._server.outcome


class _Server(http.server.HTTPServer):
    attempt: Attempt | None = None
    outcome: str | SignInFailed | None = None  # the code, or why there is none


class _Handler(http.server.BaseHTTPRequestHandler):
    timeout = REQUEST_SECONDS
    server_version = "dockyard-cli"

    def do_GET(self) -> None:
        server = cast(_Server, self.server)
        target = urlsplit(self.path)
        if target.path != CALLBACK or server.attempt is None:
            self._answer(404, "Not found.")
            return
        try:
            code = code_of(dict(parse_qsl(target.query)), server.attempt)
        except SignInFailed as e:
            server.outcome = e
            self._answer(400, f"Signing in to Dockyard failed: {e}. See your terminal.")
            return
        server.outcome = code
        self._answer(200, "Signed in to Dockyard: you can close this tab and go back to your terminal.")

    def _answer(self, status: int, text: str) -> None:
        import html

        body = f"<!doctype html><title>Dockyard</title><p>{html.escape(text)}</p>\n".encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request line holds the code."""


def _provider_json(url: str, *, form: Mapping[str, str] | None = None) -> tuple[int, Any]:
    """GET ``url`` (POST ``form`` to it) at the provider: the status and the decoded JSON (None if the
    body is not JSON); :class:`SignInFailed` if it cannot be reached."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SignInFailed(f"the identity provider's address {url!r} is not an http(s) URL")
    transport = HttpTransport(f"{parts.scheme}://{parts.netloc}", timeout=_PROVIDER_TIMEOUT)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = {"Accept": "application/json", "User-Agent": "dockyard-cli"}
    body = None
    if form is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        body = urlencode(form).encode()
    try:
        response = transport.send("POST" if form is not None else "GET", target, headers, body)
    except TransportError as e:
        raise SignInFailed(f"cannot reach the identity provider at {parts.scheme}://{parts.netloc}: {e}") from None
    finally:
        transport.close()
    try:
        return response.status, json.loads(response.body.decode())
    except ValueError:
        return response.status, None


def endpoints(issuer: str) -> tuple[str, str]:
    """The provider's authorization and token endpoints, from its discovery document (whose issuer
    must be ``issuer``)."""
    url = f"{issuer}/.well-known/openid-configuration"
    status, document = _provider_json(url)
    if status != 200 or not isinstance(document, dict):
        raise SignInFailed(f"the identity provider answered {status} for {url}, not its discovery document")
    if str(document.get("issuer", "")).rstrip("/") != issuer:
        raise SignInFailed(f"the discovery document at {url} names another issuer")
    methods = document.get("code_challenge_methods_supported")
    if isinstance(methods, list) and "S256" not in methods:
        raise SignInFailed("the identity provider does not support PKCE with S256")
    authorize, token = document.get("authorization_endpoint"), document.get("token_endpoint")
    if not isinstance(authorize, str) or not isinstance(token, str):
        raise SignInFailed(f"the discovery document at {url} names no authorization or token endpoint")
    return authorize, token


def redeem(token_endpoint: str, *, offer: Offer, code: str, redirect_uri: str, attempt: Attempt) -> str:
    """The ID token the provider gives for ``code`` (with the PKCE verifier, no client secret),
    checked for its issuer and nonce."""
    status, answer = _provider_json(
        token_endpoint,
        form={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": offer.client_id,
            "code_verifier": attempt.verifier,
        },
    )
    if status != 200 or not isinstance(answer, dict):
        error = answer.get("error") if isinstance(answer, dict) else None
        raise SignInFailed(f"the identity provider refused the authorization code ({error or status})")
    id_token = answer.get("id_token")
    if not isinstance(id_token, str) or not id_token:
        raise SignInFailed("the identity provider gave no ID token (is `openid` among the scopes?)")
    claims = claims_of(id_token)
    if str(claims.get("iss", "")).rstrip("/") != offer.issuer:
        raise SignInFailed("the ID token names another issuer")
    if not secrets.compare_digest(str(claims.get("nonce", "")), attempt.nonce):
        raise SignInFailed("the ID token's nonce is not this sign-in's")
    return id_token


def _open_in_browser(url: str) -> None:
    """Try the user's browser, where there may be one: never a text browser taking the terminal over."""
    graphical = sys.platform in ("darwin", "win32") or any(
        os.environ.get(name) for name in ("BROWSER", "DISPLAY", "WAYLAND_DISPLAY")
    )
    if not graphical:
        return
    import webbrowser

    with contextlib.suppress(webbrowser.Error, OSError):  # the address is printed: the user opens it
        webbrowser.open(url)


def sign_in(
    api: Api,
    *,
    timeout: float,
    say: Callable[[str], None],
    open_browser: Callable[[str], None] = _open_in_browser,
) -> str:
    """Sign in through the provider the server at ``api`` names (see the module's contracts): the ID
    token. ``say`` shows the user the address to open; ``open_browser`` tries to open it."""
    try:
        offer = offer_of(api.get("/api/v1/auth/sso"), api.server)
    except ApiError as e:
        raise SignInFailed(str(e)) from None
    authorize, token_endpoint = endpoints(offer.issuer)
    attempt = Attempt.new()
    with Loopback() as loopback:
        url = authorization_url(authorize, offer=offer, redirect_uri=loopback.redirect_uri, attempt=attempt)
        say(f"Open this address in your browser to sign in (waiting up to {timeout:g} s):\n{url}")
        open_browser(url)
        code = loopback.wait(attempt, timeout=timeout)
    return redeem(token_endpoint, offer=offer, code=code, redirect_uri=loopback.redirect_uri, attempt=attempt)
