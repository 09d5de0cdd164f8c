"""A real OpenID Connect provider for the single sign-on tests: ``oidc-provider-mock`` (PyPI, MIT; Authlib
under Flask) served on a loopback port from a thread. It signs real RS256 ID tokens with its own key,
serves discovery and JWKS, and takes any client id and secret. People and their claims (groups) are set
through its ``PUT /users/{sub}``; signing in is its authorization form, posted with ``sub``.

:meth:`Idp.rotate` gives the provider a new signing key (its JWKS then publishes only the new one), as
a key rotation at a real provider does once the old key's tokens are gone.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import flask
import httpx
import oidc_provider_mock
import werkzeug.serving
from authlib.jose import RSAKey

CLIENT_ID = "dockyard"
CLIENT_SECRET = "idp-client-secret-canary-5f1c"


@dataclass
class Idp:
    app: flask.Flask
    issuer: str

    def set_user(self, sub: str, claims: dict[str, Any]) -> None:
        answer = httpx.put(f"{self.issuer}/users/{sub}", json=claims)
        assert answer.status_code == 204, answer.text

    def rotate(self) -> None:
        with self.app.test_request_context():
            self.app.preprocess_request()  # the provider's before_request puts its storage on flask.g
            flask.g.oidc_provider_mock_storage.jwk = RSAKey.generate_key(is_private=True)

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
    server = werkzeug.serving.make_server("localhost", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield Idp(app=app, issuer=f"http://localhost:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()
