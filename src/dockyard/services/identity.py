"""Identity: the first admin, personal API tokens, and who a request's bearer token belongs to.

Tokens are ``dy_`` + 43 URL-safe random characters, shown once when made; only their SHA-256 is
stored, so a database leak does not leak usable tokens. A token expires at its ``expires_at`` (if
any) and can be revoked. :func:`authenticate` raises :class:`Unauthenticated` for every failure with
the same message, whatever the reason, so a caller cannot probe which tokens exist.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
import uuid
from pathlib import Path

from dockyard.adapters.db.identity import TokenRecord
from dockyard.domain.access import Principal, require_admin
from dockyard.domain.errors import InvalidInput, Unauthenticated
from dockyard.domain.names import dns_label, text
from dockyard.services.platform import Platform

ADMIN = "admin"
PREFIX = "dy_"
MAX_TOKEN_DAYS = 3650


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_secret() -> str:
    return PREFIX + secrets.token_urlsafe(32)


async def bootstrap(platform: Platform, *, token: str | None, token_file: Path) -> bool:
    """On a database without users, create the platform admin ``admin`` with an API token: ``token``
    if given, else a new one written to ``token_file`` (mode 0600, never logged). True if created."""
    secret = token or new_secret()
    if not secret.startswith(PREFIX) or len(secret) < 32:
        raise InvalidInput("admin_token", f"the admin token must start with {PREFIX!r} and hold at least 32 characters")
    # Written first to a new private file, put in place only once the admin is committed: no token
    # file for an admin that does not exist, no admin whose token was never written.
    pending = _new_private(token_file, secret + "\n") if token is None else None
    try:
        async with platform.db.unit_of_work() as uow:
            if await uow.identities.count_users():
                return False
            await uow.identities.add_user(ADMIN, admin=True)
            await uow.identities.add_token(
                token_id=str(uuid.uuid4()), user=ADMIN, name="bootstrap", token_hash=_hash(secret), expires_at=None
            )
        if pending is not None:
            os.replace(pending, token_file)
            pending = None
        return True
    finally:
        if pending is not None:
            pending.unlink(missing_ok=True)


def _new_private(path: Path, content: str) -> Path:
    """A new file next to ``path`` holding ``content``, readable by its owner only (never a symlink's target)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(content)
    return fresh


async def authenticate(platform: Platform, token: str | None) -> Principal:
    if not token or not token.startswith(PREFIX) or len(token) > 200:
        raise Unauthenticated("a valid API token is required (Authorization: Bearer <token>)")
    async with platform.db.unit_of_work() as uow:
        user = await uow.identities.user_of_token(_hash(token), now=dt.datetime.now(dt.UTC))
    if user is None:
        raise Unauthenticated("a valid API token is required (Authorization: Bearer <token>)")
    return Principal(name=user.name, admin=user.admin)


async def create_user(platform: Platform, principal: Principal, *, name: str, admin: bool = False) -> None:
    require_admin(principal, "creating users")
    dns_label("name", name)
    if name == "me":
        raise InvalidInput("name", "'me' stands for the caller in the API and cannot name a user")
    async with platform.db.unit_of_work() as uow:
        await uow.identities.add_user(name, admin=admin)


async def create_token(
    platform: Platform, principal: Principal, *, name: str, expires_in_days: int | None = 90, user: str = ""
) -> tuple[TokenRecord, str]:
    """A new token for the caller (or, for an admin, for ``user``); returns it with its secret."""
    owner = user or principal.name
    if owner != principal.name:
        require_admin(principal, "making tokens for other users")
    text("name", name, min_length=1, max_length=100)
    if expires_in_days is not None and (
        isinstance(expires_in_days, bool)
        or not isinstance(expires_in_days, int)
        or not 1 <= expires_in_days <= MAX_TOKEN_DAYS
    ):
        raise InvalidInput("expires_in_days", f"expires_in_days must be an integer from 1 to {MAX_TOKEN_DAYS}")
    secret = new_secret()
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=expires_in_days) if expires_in_days else None
    async with platform.db.unit_of_work() as uow:
        record = await uow.identities.add_token(
            token_id=str(uuid.uuid4()), user=owner, name=name, token_hash=_hash(secret), expires_at=expires
        )
    return record, secret


async def list_tokens(platform: Platform, principal: Principal) -> list[TokenRecord]:
    async with platform.db.unit_of_work() as uow:
        return await uow.identities.tokens(principal.name)


async def revoke_token(platform: Platform, principal: Principal, token_id: str) -> None:
    async with platform.db.unit_of_work() as uow:
        await uow.identities.revoke_token(principal.name, token_id)
