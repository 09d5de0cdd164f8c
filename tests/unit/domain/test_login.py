"""Password rules and login throttling."""

from __future__ import annotations

import datetime as dt

import pytest

from dockyard.domain.errors import InvalidInput
from dockyard.domain.login import Failures, Throttle, after_failure, check_password, retry_after

T0 = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
THROTTLE = Throttle(limit=3, window=dt.timedelta(minutes=10))


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("correct horse battery", True),
        ("Tr0ub4dor&3xyz", True),
        ("short", False),
        ("x" * 257, False),
        ("password1234", False),  # a known default with digits
        ("Changeme!!!!", False),
        ("admin1234567", False),
        ("aaaaaaaaaaaaa", False),  # too few distinct characters
        ("ababababababab", False),
        ("olga-the-owner", False),  # the user's own name
    ],
)
def test_check_password(password: str, ok: bool) -> None:
    if ok:
        check_password(password, user="olga-the-owner")
        return
    with pytest.raises(InvalidInput) as raised:
        check_password(password, user="olga-the-owner")
    assert raised.value.field == "password"
    assert password not in str(raised.value)


@pytest.mark.parametrize(
    ("failures", "now", "wait"),
    [
        (None, T0, 0),
        (Failures(2, T0), T0, 0),
        (Failures(3, T0), T0, 600),
        (Failures(3, T0), T0 + dt.timedelta(minutes=9, seconds=59, milliseconds=500), 1),
        (Failures(3, T0), T0 + dt.timedelta(minutes=10), 0),
        (Failures(7, T0), T0 + dt.timedelta(minutes=5), 300),
    ],
)
def test_retry_after(failures: Failures | None, now: dt.datetime, wait: int) -> None:
    assert retry_after(failures, THROTTLE, now) == wait


@pytest.mark.parametrize(
    ("failures", "now", "expected"),
    [
        (None, T0, Failures(1, T0)),
        (Failures(1, T0), T0 + dt.timedelta(minutes=1), Failures(2, T0)),
        # the window ended: counting starts again
        (Failures(3, T0), T0 + dt.timedelta(minutes=10), Failures(1, T0 + dt.timedelta(minutes=10))),
    ],
)
def test_after_failure(failures: Failures | None, now: dt.datetime, expected: Failures) -> None:
    assert after_failure(failures, THROTTLE, now) == expected
