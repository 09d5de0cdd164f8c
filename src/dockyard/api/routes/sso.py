"""/auth/*: console single sign-on through the OpenID Connect provider (authorization code + PKCE,
the backend-for-frontend pattern), and /api/v1/auth/sso (whether it is on, for the console's button).

The protocol is Authlib's Starlette client; what it keeps between /auth/login and /auth/callback
(state, nonce, PKCE verifier, where to go after) sits in a short-lived signed cookie
(``dockyard_login``, :class:`LoginState`), dropped at the callback. The session itself is the opaque
``dockyard_session`` cookie (HttpOnly, SameSite=Lax, ~50 bytes whatever the groups): who and which
groups stay server side (:mod:`dockyard.services.sso`). Logout ends the session in the database:
the old cookie is refused from the next request on.
"""

from __future__ import annotations

from typing import Any

from authlib.integrations.starlette_client import OAuth, OAuthError
from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import RedirectResponse
from pydantic import BaseModel
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from dockyard.api.deps import SESSION_COOKIE, Caller, PlatformDep
from dockyard.api.errors import ERRORS
from dockyard.api.schemas.identity import AppRoleOut, MeOut
from dockyard.domain.errors import Unauthenticated
from dockyard.services import sso
from dockyard.services.platform import Platform, SsoConfig

router = APIRouter(responses=ERRORS, tags=["identity"])
LOGIN_COOKIE = "dockyard_login"
LOGIN_SECONDS = 600  # to come back from the provider
_CLIENT = "idp"


class SsoOut(BaseModel):
    """Whether single sign-on is on; for the console, where its button goes; for ``dockyard login
    --sso``, the provider and the public client to sign in with (none: the CLI cannot)."""

    enabled: bool
    login_url: str | None = None
    issuer: str | None = None
    cli_client_id: str | None = None
    scopes: str | None = None


class LoginState:
    """Starlette's signed-cookie session, on /auth/ only and keyed by the platform's master key (known
    once the platform runs, hence made at the first request): what Authlib keeps during a login."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app
        self._inner: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/auth/"):
            await self._app(scope, receive, send)
            return
        if self._inner is None:
            platform: Platform = scope["app"].state.platform
            config = platform.sso
            self._inner = SessionMiddleware(
                self._app,
                secret_key=platform.box.derive("sso-login-state").hex(),
                session_cookie=LOGIN_COOKIE,
                max_age=LOGIN_SECONDS,
                path="/auth",
                same_site="lax",
                https_only=config.secure_cookies if config else True,
            )
        await self._inner(scope, receive, send)


def _client(request: Request, config: SsoConfig) -> Any:
    oauth: OAuth | None = getattr(request.app.state, "oauth", None)
    if oauth is None:
        oauth = OAuth()
        oauth.register(
            _CLIENT,
            client_id=config.client_id,
            client_secret=config.client_secret,
            server_metadata_url=f"{config.issuer}/.well-known/openid-configuration",
            client_kwargs={"scope": config.scopes, "code_challenge_method": "S256"},
        )
        request.app.state.oauth = oauth
    return oauth.create_client(_CLIENT)


def _local(path: str) -> str:
    """``path`` if it stays on this server (no open redirect), else the console's start."""
    return path if path.startswith("/") and not path.startswith("//") and "\\" not in path else "/"


@router.get("/api/v1/auth/sso")
async def sso_status(platform: PlatformDep) -> SsoOut:
    """Whether single sign-on is on, where the console's "Sign in with SSO" button goes, and what the
    CLI signs in with (the issuer and a public client id: the CLI talks to the provider itself, with
    PKCE and no secret). Public: nothing here is a secret."""
    config = platform.sso
    if config is None:
        return SsoOut(enabled=False)
    return SsoOut(
        enabled=True,
        login_url="/auth/login",
        issuer=config.issuer,
        cli_client_id=config.cli_client_id or None,
        scopes=config.scopes,
    )


@router.get("/auth/login", status_code=status.HTTP_302_FOUND, response_class=RedirectResponse)
async def login(
    request: Request, platform: PlatformDep, next_: str = Query("/", alias="next", max_length=500)
) -> Response:
    """Start a console sign-in: 302 to the identity provider (authorization code + PKCE). 404 when
    single sign-on is off."""
    config = sso.config_of(platform)
    request.session["next"] = _local(next_)
    redirect: Response = await _client(request, config).authorize_redirect(request, config.redirect_url)
    return redirect


@router.get("/auth/callback", status_code=status.HTTP_302_FOUND, response_class=RedirectResponse)
async def callback(request: Request, platform: PlatformDep) -> Response:
    """Where the provider sends the browser back: checks state, nonce and the ID token, opens a
    session (the ``dockyard_session`` cookie) and goes on to where the sign-in started. 401 if the
    provider refused or the answer does not check out."""
    config = sso.config_of(platform)
    try:
        token = await _client(request, config).authorize_access_token(request)
    except OAuthError as e:
        raise Unauthenticated(f"single sign-on failed: {e.error}") from None
    claims = token.get("userinfo") or {}
    secret, _ = await sso.start_session(platform, claims)
    target = _local(str(request.session.pop("next", "/")))
    request.session.clear()
    response = RedirectResponse(target, status_code=status.HTTP_302_FOUND)
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=int(config.session_seconds),
        path="/",
        httponly=True,
        samesite="lax",
        secure=config.secure_cookies,
    )
    return response


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(request: Request, platform: PlatformDep) -> Response:
    """End the console session at once (its cookie is refused from now on) and drop the cookie."""
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        await sso.end_session(platform, secret)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/auth/me")
async def me(caller: Caller) -> MeOut:
    """Who the session (or bearer token) is, with the roles its groups map to."""
    return MeOut(
        name=caller.name,
        admin=caller.admin,
        roles=dict(caller.roles),
        app_roles=[AppRoleOut(system=s, app=a, role=r) for (s, a), r in sorted(caller.app_roles.items())],
    )
