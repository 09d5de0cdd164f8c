"""Identity: the first admin, users and passwords, personal API tokens, and who a request's bearer
token belongs to.

API tokens are ``dy_`` + 43 URL-safe random characters, shown once when made; only their SHA-256 is
stored, so a database leak does not leak usable tokens. A token expires at its ``expires_at`` (if
any) and can be revoked. Access tokens from a password login (:mod:`dockyard.services.sessions`)
are accepted too. :func:`authenticate` raises :class:`Unauthenticated` for every failure with the
same message, whatever the reason, so a caller cannot probe which tokens or users exist.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
import uuid
from pathlib import Path

from dockyard.domain.access import Principal, require_admin
from dockyard.domain.errors import InvalidInput, Unauthenticated
from dockyard.domain.login import TokenRecord, UserRecord, check_password
from dockyard.domain.names import dns_label, text
from dockyard.services import sso
from dockyard.services.platform import Platform
from dockyard.services.sessions import access_key
from dockyard.services.signin import access_subject, hash_password, verify_password

ADMIN = "admin"
PREFIX = "dy_"
MAX_TOKEN_DAYS = 3650
_NO_TOKEN = "a valid token is required (Authorization: Bearer <token>)"  # noqa: S105 - a message


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_secret() -> str:
    return PREFIX + secrets.token_urlsafe(32)


async def bootstrap(
    platform: Platform,
    *,
    token: str | None,
    token_file: Path,
    password: str | None = None,
    password_file: Path | None = None,
) -> bool:
    """On a database without users, create the platform admin ``admin`` with an API token and a
    password: ``token`` / ``password`` if given, else new ones written to ``token_file`` /
    ``password_file`` (mode 0600, never logged). True if created. A given password must pass the
    password rules: there is no default password."""
    secret = token or new_secret()
    if not secret.startswith(PREFIX) or len(secret) < 32:
        raise InvalidInput("admin_token", f"the admin token must start with {PREFIX!r} and hold at least 32 characters")
    if password is not None:
        try:
            check_password(password, user=ADMIN)
        except InvalidInput as e:
            raise InvalidInput("admin_password", f"admin_password: {e}") from None
    plain = password or secrets.token_urlsafe(18)
    # Written first to new private files, put in place only once the admin is committed: no file for
    # an admin that does not exist, no admin whose secrets were never written.
    pending: list[tuple[Path, Path]] = []
    if token is None:
        pending.append((_new_private(token_file, secret + "\n"), token_file))
    if password is None and password_file is not None:
        pending.append((_new_private(password_file, plain + "\n"), password_file))
    try:
        async with platform.db.unit_of_work() as uow:
            if await uow.identities.count_users():
                return False
            await uow.identities.add_user(ADMIN, admin=True, password_hash=await hash_password(plain))
            await uow.identities.add_token(
                token_id=str(uuid.uuid4()), user=ADMIN, name="bootstrap", token_hash=_hash(secret), expires_at=None
            )
        for fresh, final in pending:
            os.replace(fresh, final)
        pending.clear()
        return True
    finally:
        for fresh, _ in pending:
            fresh.unlink(missing_ok=True)


def _new_private(path: Path, content: str) -> Path:
    """A new file next to ``path`` holding ``content``, readable by its owner only (never a symlink's target)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(content)
    return fresh


async def authenticate(platform: Platform, token: str | None) -> Principal:
    """The caller holding ``token``: a personal API token (``dy_...``), an access token (JWT), a
    single sign-on session (``dys_...``) or, with SSO on, a JWT signed by the identity provider (see
    :mod:`dockyard.services.sso`).

    Each call reads the identity generation; the principal itself comes from the process's cache
    when nothing about identity changed since it was loaded (see :mod:`dockyard.services.generations`),
    so a revocation is refused on the next request, here or on any other replica."""
    if not token or len(token) > 4096:
        raise Unauthenticated(_NO_TOKEN)
    if token.startswith(sso.SESSION_PREFIX):
        return await sso.session_principal(platform, token)
    now = dt.datetime.now(dt.UTC)
    token_hash, user = (
        (_hash(token), None) if token.startswith(PREFIX) else ("", access_subject(access_key(platform), token))
    )
    if not token_hash and not user:
        from_provider = await sso.bearer_principal(platform, token)
        if from_provider is None:
            raise Unauthenticated(_NO_TOKEN)
        return from_provider
    key = f"token:{token_hash}" if token_hash else f"user:{user}"
    generation = await platform.db.generation("identity")
    cached = platform.principals.get(key, generation=generation, now=now)
    if cached is not None:
        return cached
    async with platform.db.unit_of_work() as uow:
        if token_hash:
            found = await uow.identities.token_holder(token_hash, now=now)
        else:
            principal = await uow.identities.principal(user or "")
            found = (principal, None) if principal else None
    if found is None:
        raise Unauthenticated(_NO_TOKEN)
    platform.principals.put(key, found[0], generation=generation, until=found[1])
    return found[0]


async def create_user(
    platform: Platform, principal: Principal, *, name: str, admin: bool = False, password: str | None = None
) -> None:
    require_admin(principal, "creating users")
    dns_label("name", name)
    if name == "me":
        raise InvalidInput("name", "'me' stands for the caller in the API and cannot name a user")
    if password is not None:
        check_password(password, user=name)
    hashed = await hash_password(password) if password is not None else None
    async with platform.db.unit_of_work() as uow:
        await uow.identities.add_user(name, admin=admin, password_hash=hashed)


async def list_users(platform: Platform, principal: Principal) -> list[UserRecord]:
    require_admin(principal, "listing users")
    async with platform.db.unit_of_work() as uow:
        return await uow.identities.users()


async def set_password(
    platform: Platform, principal: Principal, *, user: str, new: str, current: str | None = None
) -> None:
    """Change a password: one's own with the current one, anyone's as an admin. Ends the user's
    login sessions (refresh tokens); API tokens stay."""
    if user == principal.name:
        async with platform.db.unit_of_work() as uow:
            stored = await uow.identities.password_hash(user)
        if stored is not None and not await verify_password(current or "", stored):
            raise InvalidInput("current_password", "the current password is wrong")
    else:
        require_admin(principal, "setting another user's password")
    check_password(new, user=user)
    hashed = await hash_password(new)
    async with platform.db.unit_of_work() as uow:
        await uow.identities.set_password(user, hashed)
        await uow.sessions.revoke_user(user, dt.datetime.now(dt.UTC))


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
