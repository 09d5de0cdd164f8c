"""/api/v1/login, /api/v1/logout, /api/v1/users: sessions, users, passwords and personal API tokens."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from dockyard.api.deps import Caller, PlatformDep
from dockyard.api.errors import ERRORS
from dockyard.api.schemas.identity import AppRoleOut, MeOut, NewTokenOut, TokenIn, TokenOut, UserIn, UserOut
from dockyard.api.schemas.sessions import LoginIn, PasswordIn, RefreshIn, SessionOut
from dockyard.services import identity, sessions
from dockyard.services.sessions import Tokens

router = APIRouter(prefix="/api/v1", responses=ERRORS)


def _session(tokens: Tokens) -> SessionOut:
    return SessionOut(
        access_token=tokens.access_token,
        expires_in=tokens.expires_in,
        refresh_token=tokens.refresh_token,
        refresh_expires_at=tokens.refresh_expires_at,
    )


@router.post("/login", tags=["identity"])
async def login(body: LoginIn, request: Request, platform: PlatformDep) -> SessionOut:
    """Sign in with a password: an access token (15 minutes) and a refresh token. Failed attempts
    are limited per user and per source address (429 with Retry-After)."""
    source = request.client.host if request.client else ""
    tokens = await sessions.login(platform, user=body.user, password=body.password.get_secret_value(), source=source)
    return _session(tokens)


@router.post("/login/refresh", tags=["identity"])
async def refresh(body: RefreshIn, platform: PlatformDep) -> SessionOut:
    """A new token pair for a refresh token, which is used up (a reused one ends its session)."""
    return _session(await sessions.refresh(platform, body.refresh_token.get_secret_value()))


@router.post("/logout", tags=["identity"], status_code=status.HTTP_204_NO_CONTENT)
async def logout(body: RefreshIn, platform: PlatformDep) -> None:
    """End the session of a refresh token (its access tokens expire within 15 minutes)."""
    await sessions.logout(platform, body.refresh_token.get_secret_value())


@router.get("/users", tags=["identity"])
async def list_users(platform: PlatformDep, caller: Caller) -> list[UserOut]:
    """Every user (platform admins)."""
    return [UserOut(name=u.name, admin=u.admin) for u in await identity.list_users(platform, caller)]


@router.post("/users", tags=["identity"], status_code=status.HTTP_201_CREATED)
async def create_user(body: UserIn, platform: PlatformDep, caller: Caller) -> UserOut:
    """Create a user (platform admins), optionally with a password."""
    password = body.password.get_secret_value() if body.password else None
    await identity.create_user(platform, caller, name=body.name, admin=body.admin, password=password)
    return UserOut(name=body.name, admin=body.admin)


@router.get("/users/me", tags=["identity"])
async def me(caller: Caller) -> MeOut:
    """Who am I: the name, the admin flag and the roles (what the console shows or hides by)."""
    return MeOut(
        name=caller.name,
        admin=caller.admin,
        roles=dict(caller.roles),
        app_roles=[AppRoleOut(system=s, app=a, role=r) for (s, a), r in sorted(caller.app_roles.items())],
    )


@router.put("/users/{user}/password", tags=["identity"], status_code=status.HTTP_204_NO_CONTENT)
async def set_password(user: str, body: PasswordIn, platform: PlatformDep, caller: Caller) -> None:
    """Set a password: ``me`` (with ``current_password``) or, for admins, anyone's. Ends that user's
    login sessions."""
    await identity.set_password(
        platform,
        caller,
        user=caller.name if user == "me" else user,
        new=body.new_password.get_secret_value(),
        current=body.current_password.get_secret_value() if body.current_password else None,
    )


@router.post("/users/{user}/tokens", tags=["identity"], status_code=status.HTTP_201_CREATED)
async def create_token(user: str, body: TokenIn, platform: PlatformDep, caller: Caller) -> NewTokenOut:
    """A new API token for ``user`` (``me`` for yourself; others' need an admin). Shown once."""
    owner = caller.name if user == "me" else user
    record, secret = await identity.create_token(
        platform, caller, name=body.name, expires_in_days=body.expires_in_days, user=owner
    )
    return NewTokenOut(
        id=record.id,
        name=record.name,
        created_at=record.created_at,
        expires_at=record.expires_at,
        revoked=False,
        token=secret,
    )


@router.get("/users/me/tokens", tags=["identity"])
async def list_tokens(platform: PlatformDep, caller: Caller) -> list[TokenOut]:
    return [
        TokenOut(
            id=t.id, name=t.name, created_at=t.created_at, expires_at=t.expires_at, revoked=t.revoked_at is not None
        )
        for t in await identity.list_tokens(platform, caller)
    ]


@router.delete("/users/me/tokens/{token_id}", tags=["identity"], status_code=status.HTTP_204_NO_CONTENT)
async def revoke_token(token_id: str, platform: PlatformDep, caller: Caller) -> None:
    await identity.revoke_token(platform, caller, token_id)
