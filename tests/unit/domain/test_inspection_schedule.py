"""The inspection schedule: cron expressions in a time zone, checked as an admin sets them."""

from __future__ import annotations

import datetime as dt

import pytest

from dockyard.domain.errors import InvalidInput
from dockyard.domain.inspection_schedule import DEFAULT_CRON, check, next_run

UTC = dt.UTC


def at(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("cron", "zone", "after", "expected"),
    [
        (DEFAULT_CRON, "UTC", at(2026, 12, 2, 9, 0), at(2026, 12, 2, 17, 30)),
        (DEFAULT_CRON, "UTC", at(2026, 12, 2, 17, 30), at(2026, 12, 3, 17, 30)),
        # 17:30 in Shanghai (UTC+8) is 09:30 UTC
        (DEFAULT_CRON, "Asia/Shanghai", at(2026, 12, 2, 9, 0),
         at(2026, 12, 2, 9, 30)),
        (DEFAULT_CRON, "Asia/Shanghai", at(2026, 12, 2, 10, 0),
         at(2026, 12, 3, 9, 30)),
        # Berlin: 17:30 is 16:30 UTC in winter, 15:30 UTC in summer
        (DEFAULT_CRON, "Europe/Berlin", at(2026, 3, 28, 18, 0),
         at(2026, 3, 29, 15, 30)),
        ("*/15 * * * *", "UTC", at(2026, 12, 2, 9, 1), at(2026, 12, 2, 9, 15)),
        ("0 6 * * 1", "UTC", at(2026, 12, 2, 9, 0), at(2026, 12, 7, 6, 0)),
    ],
)  # fmt: skip
def test_next_run(cron: str, zone: str, after: dt.datetime, expected: dt.datetime) -> None:
    found = next_run(cron, zone, after=after)
    assert found == expected
    assert found.tzinfo == UTC


@pytest.mark.parametrize(
    ("cron", "zone", "notify", "field"),
    [
        ("61 * * * *", "UTC", "", "cron"),
        ("* * * *", "UTC", "", "cron"),
        ("30 17 * * * *", "UTC", "", "cron"),  # six fields (seconds) are not offered
        ("@daily; rm -rf", "UTC", "", "cron"),
        ("", "UTC", "", "cron"),
        ("0 0 31 2 *", "UTC", "", "cron"),  # never
        (DEFAULT_CRON, "Mars/Olympus", "", "timezone"),
        (DEFAULT_CRON, "", "", "timezone"),
        (DEFAULT_CRON, "../../etc/passwd", "", "timezone"),
        (DEFAULT_CRON, "America", "", "timezone"),  # a directory of the zone database
        (DEFAULT_CRON, "a\x00b", "", "timezone"),
        (DEFAULT_CRON, "UTC", "Not A System", "notify_system"),
        (DEFAULT_CRON, "UTC", "kube-system", "notify_system"),
    ],
)
def test_a_bad_schedule_names_its_field(cron: str, zone: str, notify: str, field: str) -> None:
    with pytest.raises(InvalidInput) as e:
        check(cron, zone, notify)
    assert e.value.field == field


def test_a_good_schedule_passes() -> None:
    check("30 17 * * 1-5", "Asia/Shanghai", "ops")
    check(DEFAULT_CRON, "UTC", "")
