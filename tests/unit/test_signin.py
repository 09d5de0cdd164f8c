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
MINUTE = dt.timedelta(minutes=1)


def _now() -> dt.datetime:
    # Taken when a test runs, never at import: the suite may run for longer than a token lives.
    return dt.datetime.now(dt.UTC)


async def test_password_round_trip_and_failures() -> None:
    hashed = await hash_password("correct horse battery")
    assert hashed.startswith("$argon2id$")
    assert "correct horse" not in hashed
    assert await verify_password("correct horse battery", hashed)
    assert not await verify_password("correct horse batterz", hashed)
    assert not await verify_password("correct horse battery", None)  # a user without a password
    assert not await verify_password("anything", "not-a-hash")


def test_access_token_round_trip() -> None:
    assert access_subject(KEY, issue_access(KEY, "olga", _now())) == "olga"


def _forged(**changes: object) -> str:
    now = _now()
    claims: dict[str, object] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "olga",
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()),
        "exp": int((now + 5 * MINUTE).timestamp()),
    }
    # Offsets in minutes from now for the time claims, so each case is built when it runs.
    claims.update(
        {
            k: int((now + v * MINUTE).timestamp()) if k in ("exp", "nbf") and isinstance(v, int) else v
            for k, v in changes.items()
        }
    )
    key = claims.pop("key", KEY)
    algorithm = str(claims.pop("alg", "HS256"))
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key, algorithm=algorithm)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "changes",
    [
        {"key": b"x" * 64},  # another key
        {"iss": "someone-else"},
        {"aud": "another-api"},
        {"exp": -5},  # expired 5 minutes ago, beyond the leeway
        {"nbf": 5},  # not valid for 5 more minutes
        {"exp": None},  # no expiry
        {"sub": ""},
        {"alg": "HS512"},  # only HS256 is accepted
    ],
)
def test_access_token_refused(changes: dict[str, object]) -> None:
    assert access_subject(KEY, _forged(**changes)) is None


@pytest.mark.parametrize("token", ["not.a.token", ""])
def test_garbage_refused(token: str) -> None:
    assert access_subject(KEY, token) is None


def test_unsigned_token_refused() -> None:
    token = jwt.encode({"iss": ISSUER, "aud": AUDIENCE, "sub": "olga", "exp": 2**40}, None, algorithm="none")  # type: ignore[arg-type]
    assert access_subject(KEY, token) is None


def test_the_cases_above_differ_from_a_valid_token_only_by_their_change() -> None:
    assert access_subject(KEY, _forged()) == "olga"
