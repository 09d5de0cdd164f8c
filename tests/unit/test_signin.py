"""Password hashes and access tokens: what verifies, and everything that must not."""

from __future__ import annotations

import datetime as dt

import jwt
import pytest

from dockyard.services.signin import (
    AUDIENCE,
    ISSUER,
    access_subject,
    hash_password,
    issue_access,
    verify_password,
)

KEY = b"k" * 64
NOW = dt.datetime.now(dt.UTC)


async def test_password_round_trip_and_failures() -> None:
    hashed = await hash_password("correct horse battery")
    assert hashed.startswith("$argon2id$")
    assert "correct horse" not in hashed
    assert await verify_password("correct horse battery", hashed)
    assert not await verify_password("correct horse batterz", hashed)
    assert not await verify_password("correct horse battery", None)  # a user without a password
    assert not await verify_password("anything", "not-a-hash")


def test_access_token_round_trip() -> None:
    assert access_subject(KEY, issue_access(KEY, "olga", NOW)) == "olga"


def _forged(**changes: object) -> str:
    claims: dict[str, object] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "olga",
        "iat": int(NOW.timestamp()),
        "nbf": int(NOW.timestamp()),
        "exp": int((NOW + dt.timedelta(minutes=5)).timestamp()),
    }
    claims.update(changes)
    key = claims.pop("key", KEY)
    algorithm = str(claims.pop("alg", "HS256"))
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key, algorithm=algorithm)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "token",
    [
        _forged(key=b"x" * 64),  # another key
        _forged(iss="someone-else"),
        _forged(aud="another-api"),
        _forged(exp=int((NOW - dt.timedelta(minutes=5)).timestamp())),  # expired beyond the leeway
        _forged(nbf=int((NOW + dt.timedelta(minutes=5)).timestamp())),  # not valid yet
        _forged(exp=None),  # no expiry
        _forged(sub=""),
        _forged(alg="HS512"),  # only HS256 is accepted
        "not.a.token",
        "",
    ],
)
def test_access_token_refused(token: str) -> None:
    assert access_subject(KEY, token) is None


def test_unsigned_token_refused() -> None:
    token = jwt.encode({"iss": ISSUER, "aud": AUDIENCE, "sub": "olga", "exp": 2**40}, None, algorithm="none")  # type: ignore[arg-type]
    assert access_subject(KEY, token) is None
