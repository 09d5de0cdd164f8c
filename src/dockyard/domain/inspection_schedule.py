"""The platform's inspection schedule: a cron expression in the platform's time zone (default every
day at 17:30), whether it is on, and which system's notification channels are told of failed checks.

:func:`check` validates what an admin sets (InvalidInput naming the field); :func:`next_run` is the
first time strictly after ``after`` that the expression names, in UTC (daylight-saving gaps and
repeats as croniter resolves them in the zone).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from functools import cache

from croniter import croniter

from dockyard.domain.errors import InvalidInput
from dockyard.domain.names import system_name

DEFAULT_CRON = "30 17 * * *"
DEFAULT_TIMEZONE = "UTC"


@dataclass(frozen=True)
class Schedule:
    cron: str = DEFAULT_CRON
    timezone: str = DEFAULT_TIMEZONE
    enabled: bool = True
    notify_system: str = ""  # "": failed checks are reported, not told
    next_at: dt.datetime | None = None  # UTC; None while disabled
    changed_by: str = ""
    changed_at: dt.datetime | None = None


def check(cron: str, timezone: str, notify_system: str) -> None:
    """InvalidInput naming ``cron``, ``timezone`` or ``notify_system`` when one cannot be used."""
    if not isinstance(cron, str) or len(cron) > 100 or len(cron.split()) != 5 or not croniter.is_valid(cron):
        raise InvalidInput("cron", "must be a cron expression of 5 fields (minute hour day month weekday)")
    try:
        croniter(cron, dt.datetime(2000, 1, 1, tzinfo=dt.UTC)).get_next(dt.datetime)
    except (ValueError, KeyError) as e:  # croniter's errors are ValueErrors
        raise InvalidInput("cron", "names no time that exists (e.g. the 31st of February)") from e
    zone(timezone)
    if notify_system:
        system_name("notify_system", notify_system)


@cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def zone(name: str) -> zoneinfo.ZoneInfo:
    """The IANA zone ``name`` (only names of the zone database: never a path)."""
    if not isinstance(name, str) or name not in _zones():
        raise InvalidInput("timezone", f"unknown time zone {str(name)[:64]!r} (an IANA name such as Asia/Shanghai)")
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError) as e:
        raise InvalidInput("timezone", f"time zone {name!r} cannot be loaded") from e


def next_run(cron: str, timezone: str, *, after: dt.datetime) -> dt.datetime:
    """The first time after ``after`` (aware) that ``cron`` names in ``timezone``, in UTC."""
    local = after.astimezone(zone(timezone))
    found: dt.datetime = croniter(cron, local).get_next(dt.datetime)
    return found.astimezone(dt.UTC)
