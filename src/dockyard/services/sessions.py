"""Password login: a short-lived access token (JWT) and a refresh token that is replaced at each use.

Contracts:
- :func:`login` answers every failure with the same :class:`Unauthenticated` message; a user (or a
  source address) with too many failed attempts gets :class:`Throttled` until its window ends, even
  with the right password. Attempts on a user are counted *before* the password is checked, so
  parallel guesses cannot slip past the limit; a success clears the user's counter.
- A refresh token (``dyr_...``, stored as SHA-256) is good once: :func:`refresh` replaces it; a
  replaced token presented again means it was copied, and the whole session ends.
- :func:`logout` ends the session of a refresh token; access tokens already issued stay valid until
  they expire (at most 15 minutes).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from dataclasses import dataclass

from dockyard.domain.errors import Throttled, Unauthenticated
from dockyard.domain.login import PER_SOURCE, PER_USER, after_failure, retry_after
from dockyard.services.platform import Platform
from dockyard.services.ports import UnitOfWork
from dockyard.services.signin import ACCESS_TTL, issue_access, verify_password

REFRESH_PREFIX = "dyr_"
REFRESH_TTL = dt.timedelta(days=14)
ACCESS_KEY_PURPOSE = "access-tokens"
_FAILED = "wrong user name or password"


@dataclass(frozen=True)
class Tokens:
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_at: dt.datetime


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def access_key(platform: Platform) -> bytes:
    return platform.box.derive(ACCESS_KEY_PURPOSE)


async def login(platform: Platform, *, user: str, password: str, source: str) -> Tokens:
    now = dt.datetime.now(dt.UTC)
    user_key, source_key = f"user:{user[:100]}", f"source:{source[:100]}"
    async with platform.db.unit_of_work() as uow:
        wait = max(
            retry_after(await uow.sessions.failures(user_key), PER_USER, now),
            retry_after(await uow.sessions.failures(source_key), PER_SOURCE, now),
        )
        if wait:
            raise Throttled(f"too many failed logins; try again in {wait} s", wait)
        await uow.sessions.set_failures(user_key, after_failure(await uow.sessions.failures(user_key), PER_USER, now))
        password_hash = await uow.identities.password_hash(user)
    if not await verify_password(password, password_hash):
        async with platform.db.unit_of_work() as uow:
            failures = await uow.sessions.failures(source_key)
            await uow.sessions.set_failures(source_key, after_failure(failures, PER_SOURCE, now))
        raise Unauthenticated(_FAILED)
    async with platform.db.unit_of_work() as uow:
        await uow.sessions.clear_failures(user_key)
        return await _new_session(platform, uow, user, family=str(uuid.uuid4()), now=now)


async def refresh(platform: Platform, refresh_token: str) -> Tokens:
    now = dt.datetime.now(dt.UTC)
    if not refresh_token.startswith(REFRESH_PREFIX) or len(refresh_token) > 200:
        raise Unauthenticated("the refresh token is not valid; log in again")
    async with platform.db.unit_of_work() as uow:
        session = await uow.sessions.by_token(_hash(refresh_token))
        if session is None or session.revoked_at is not None or session.expires_at <= now:
            raise Unauthenticated("the refresh token is not valid; log in again")
        if await uow.sessions.replace(session.id, now):
            return await _new_session(platform, uow, session.user, family=session.family, now=now)
        await uow.sessions.revoke_family(session.family, now)
    # Raised once the revocation is committed: the copied session ends although this request fails.
    raise Unauthenticated("this refresh token was already used; the session has ended, log in again")


async def logout(platform: Platform, refresh_token: str) -> None:
    now = dt.datetime.now(dt.UTC)
    async with platform.db.unit_of_work() as uow:
        session = await uow.sessions.by_token(_hash(refresh_token))
        if session is not None:
            await uow.sessions.revoke_family(session.family, now)


async def _new_session(platform: Platform, uow: UnitOfWork, user: str, *, family: str, now: dt.datetime) -> Tokens:
    secret = REFRESH_PREFIX + secrets.token_urlsafe(32)
    expires = now + REFRESH_TTL
    await uow.sessions.add(
        session_id=str(uuid.uuid4()), user=user, family=family, token_hash=_hash(secret), expires_at=expires
    )
    access = issue_access(access_key(platform), user, now)
    return Tokens(access, int(ACCESS_TTL.total_seconds()), secret, expires)
