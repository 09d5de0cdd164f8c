"""Password hashes (argon2id, pwdlib) and short-lived access tokens (JWT, HS256).

Contracts: hashing and verifying run in a worker thread (argon2 is slow on purpose and must not
stall the event loop); :func:`verify_password` takes as long for a user without a password as for
a wrong password. :func:`access_subject` returns the user of a token only if its signature, issuer,
audience, expiry and issue time all check out, else None, whatever the reason.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import uuid

import jwt
from pwdlib import PasswordHash

ISSUER = "dockyard"
AUDIENCE = "dockyard-api"
ACCESS_TTL = dt.timedelta(minutes=15)
_ALGORITHM = "HS256"
_LEEWAY = dt.timedelta(seconds=30)  # clock differences between replicas


@functools.cache
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()


@functools.cache
def _decoy() -> str:
    """A hash to verify against when the user has none, so unknown users fail in the same time."""
    return _hasher().hash(uuid.uuid4().hex)


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher().hash, password)


async def verify_password(password: str, password_hash: str | None) -> bool:
    hashed = password_hash or _decoy()
    try:
        ok = await asyncio.to_thread(_hasher().verify, password, hashed)
    except Exception:  # a malformed stored hash is a failed login, not a 500 that tells them apart
        return False
    return ok and password_hash is not None


def issue_access(key: bytes, user: str, now: dt.datetime, ttl: dt.timedelta = ACCESS_TTL) -> str:
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": user,
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, key, algorithm=_ALGORITHM)


def access_subject(key: bytes, token: str) -> str | None:
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[_ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            leeway=_LEEWAY,
            options={"require": ["exp", "iat", "nbf", "sub", "iss", "aud"]},
        )
    except jwt.PyJWTError:
        return None
    subject = claims.get("sub")
    return subject if isinstance(subject, str) and subject else None
