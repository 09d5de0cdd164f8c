"""Password login rules: which passwords are acceptable, and when login attempts are throttled.

Throttling counts failed logins in fixed windows per key (``user:NAME`` and ``source:ADDRESS``);
the counters are stored, so a restart does not reset them. A key that reached its limit is refused
until its window ends, whether or not the next password would be right (so guessing gains nothing).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from dockyard.domain.errors import InvalidInput

MIN_PASSWORD = 12
MAX_PASSWORD = 256
# Passwords that installers and tutorials use: never accepted, whatever their length.
_KNOWN_DEFAULTS = frozenset(
    {"admin", "administrator", "password", "changeme", "dockyard", "secret", "letmein", "welcome", "qwerty"}
)


def check_password(password: str, *, user: str) -> None:
    """Raise :class:`InvalidInput` (field ``password``) for a password too short, too long, equal to
    the user's name or built from a well-known default. The message never repeats the password."""
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidInput("password", f"a password has {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    folded = password.lower()
    stem = folded.rstrip("0123456789!@#$%^&*.-_ ")
    if folded == user.lower() or stem in _KNOWN_DEFAULTS or len(set(folded)) < 4:
        raise InvalidInput("password", "this password is too easy to guess; choose another")


@dataclass(frozen=True)
class Throttle:
    """At most ``limit`` failed logins per ``window`` for one key."""

    limit: int
    window: dt.timedelta


PER_USER = Throttle(limit=5, window=dt.timedelta(minutes=15))
PER_SOURCE = Throttle(limit=20, window=dt.timedelta(minutes=15))


@dataclass(frozen=True)
class Failures:
    """Failed logins counted for one key since ``since``."""

    count: int
    since: dt.datetime


def retry_after(failures: Failures | None, throttle: Throttle, now: dt.datetime) -> int:
    """Seconds the key must wait before it may try again; 0 if it may try now."""
    if failures is None or failures.count < throttle.limit:
        return 0
    left = failures.since + throttle.window - now
    return max(0, int(left.total_seconds() + 0.999))


def after_failure(failures: Failures | None, throttle: Throttle, now: dt.datetime) -> Failures:
    """The counter once one more failure happened at ``now`` (a new window once the old one ended)."""
    if failures is None or now >= failures.since + throttle.window:
        return Failures(1, now)
    return Failures(failures.count + 1, failures.since)


# Users, tokens and login sessions as the identity store keeps them (secrets never: only their hashes).


@dataclass(frozen=True)
class UserRecord:
    name: str
    admin: bool


@dataclass(frozen=True)
class TokenRecord:
    id: str
    user: str
    name: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None


@dataclass(frozen=True)
class SessionRecord:
    id: str
    user: str
    family: str
    expires_at: dt.datetime
    replaced_at: dt.datetime | None
    revoked_at: dt.datetime | None
