"""The period of a statistics report: defaults and the days refused (422 naming the field)."""

from __future__ import annotations

import datetime as dt

import pytest

from dockyard.domain.errors import InvalidInput
from dockyard.services.statistics import period

TODAY = dt.date(2026, 12, 2)


@pytest.mark.parametrize(
    ("first", "last", "want"),
    [
        (None, None, (dt.date(2026, 11, 3), TODAY)),
        (None, dt.date(2026, 11, 30), (dt.date(2026, 11, 1), dt.date(2026, 11, 30))),
        (TODAY, None, (TODAY, TODAY)),
    ],
)
def test_defaults(first: dt.date | None, last: dt.date | None, want: tuple[dt.date, dt.date]) -> None:
    assert period(first, last, today=TODAY) == want


@pytest.mark.parametrize(
    ("first", "last", "field"),
    [
        (dt.date(2026, 12, 3), TODAY, "from"),  # after to
        (dt.date(2020, 1, 1), TODAY, "from"),  # more than 400 days
        (dt.date(1, 1, 1), None, "from"),  # out of range (would overflow)
        (None, dt.date(9999, 12, 31), "to"),
    ],
)
def test_refused(first: dt.date | None, last: dt.date | None, field: str) -> None:
    with pytest.raises(InvalidInput) as e:
        period(first, last, today=TODAY)
    assert e.value.field == field
