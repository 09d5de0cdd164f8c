"""A real OpenID Connect provider for the single sign-on tests: ``oidc-provider-mock`` (PyPI, MIT; Authlib
under Flask) served on a loopback port from a thread. It signs real RS256 ID tokens with its own key,
serves discovery and JWKS, and takes any client id and secret. People and their claims (groups) are set
through its ``PUT /users/{sub}``; signing in is its authorization form, posted with ``sub``.

Public clients: the mock's code grant authenticates clients at the token endpoint by a secret only
(Authlib's default methods), so Authlib's own ``none`` method (RFC 8252 §8.4: a native app has no
secret) is turned on for it, as an administrator configures a public client at a real provider. The
mock keeps no code challenge, so it cannot check PKCE itself: :attr:`Idp.token_requests` keeps what
clients posted to the token endpoint, for a test to check the verifier against the challenge.

:meth:`Idp.rotate` gives the provider a new signing key (its JWKS then publishes only the new one), as
a key rotation at a real provider does once the old key's tokens are gone.
"""

from __future__ import annotations

import base64
import hashlib
import io
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import flask
import httpx
import oidc_provider_mock
import werkzeug.serving
from authlib.jose import RSAKey
from joserfc import jwt
from joserfc.jwk import RSAKey as JoseRSAKey

CLIENT_ID = "dockyard"
CLIENT_SECRET = "idp-client-secret-canary-5f1c"
CLI_CLIENT_ID = "dockyard-cli"  # the public client of `dockyard login --sso` (no secret: PKCE)

_CodeGrant = oidc_provider_mock._app.AuthorizationCodeGrant
if "none" not in _CodeGrant.TOKEN_ENDPOINT_AUTH_METHODS:
    _CodeGrant.TOKEN_ENDPOINT_AUTH_METHODS = [*_CodeGrant.TOKEN_ENDPOINT_AUTH_METHODS, "none"]


class _TokenRequests:
    """WSGI middleware keeping each form posted to ``/oauth2/token`` (with its Authorization header)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.seen: list[dict[str, str]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") == "/oauth2/token" and environ.get("REQUEST_METHOD") == "POST":
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(body)
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            self.seen.append({**form, "authorization": environ.get("HTTP_AUTHORIZATION", "")})
        return self.inner(environ, start_response)


@dataclass
class Idp:
    app: flask.Flask
    issuer: str
    token_requests: list[dict[str, str]] = field(default_factory=list)  # forms posted to the token endpoint

    def set_user(self, sub: str, claims: dict[str, Any]) -> None:
        answer = httpx.put(f"{self.issuer}/users/{sub}", json=claims)
        assert answer.status_code == 204, answer.text

    def rotate(self) -> None:
        with self.app.test_request_context():
            self.app.preprocess_request()  # the provider's before_request puts its storage on flask.g
            flask.g.oidc_provider_mock_storage.jwk = RSAKey.generate_key(is_private=True)

    def signed(self, claims: dict[str, Any]) -> str:
        """A JWT with exactly ``claims`` signed by the provider's current key (and its ``kid``), as the
        provider signs its ID tokens: e.g. one that has expired."""
        with self.app.test_request_context():
            self.app.preprocess_request()
            private = flask.g.oidc_provider_mock_storage.jwk.as_dict(is_private=True)
        key = JoseRSAKey.import_key(private)
        return jwt.encode({"alg": "RS256", "kid": private["kid"]}, claims, key)

    def id_token(self, sub: str, *, client_id: str = CLIENT_ID) -> str:
        """An ID token for ``sub``, through the provider's authorization code flow (with PKCE), as a
        command-line client gets one."""
        redirect = "http://127.0.0.1:9/callback"
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        query = urlencode(
            {
                "client_id": client_id,
                "response_type": "code",
                "redirect_uri": redirect,
                "scope": "openid profile email",
                "state": secrets.token_urlsafe(8),
                "nonce": secrets.token_urlsafe(8),
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        with httpx.Client(follow_redirects=False) as http:
            answer = http.post(f"{self.issuer}/oauth2/authorize?{query}", data={"sub": sub})
            assert answer.status_code == 302, answer.text
            code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
            token = http.post(
                f"{self.issuer}/oauth2/token",
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": redirect,
                    "code_verifier": verifier,
                },
                auth=(client_id, CLIENT_SECRET),
            )
            assert token.status_code == 200, token.text
            id_token: str = token.json()["id_token"]
            return id_token


@contextmanager
def running_idp() -> Iterator[Idp]:
    app = oidc_provider_mock.app(require_nonce=True)
    recorder = _TokenRequests(app.wsgi_app)
    app.wsgi_app = recorder  # type: ignore[method-assign]
    server = werkzeug.serving.make_server("localhost", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield Idp(app=app, issuer=f"http://localhost:{server.server_port}", token_requests=recorder.seen)
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()
