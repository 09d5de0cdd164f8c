"""Silences of a system's alerts, kept in Alertmanager (its API v2, through the Silencer port).

Contracts: listing needs ``read`` on the system and shows only silences scoped to it (a
``system="<name>"`` matcher, which Dockyard adds to every silence it creates); creating and
expiring need ``deploy`` (developers and owners). A silence has an owner (the caller), a reason and
a duration of at most the platform's maximum (longer is refused, not cut); Alertmanager expires it
by itself at its end. Expiring a silence of another system is a 404, like one that does not exist.
Without an Alertmanager configured (``DOCKYARD_ALERTMANAGER_URL``) these answer 503.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from dockyard.domain.access import Principal, authorize
from dockyard.domain.errors import InvalidInput, NotFound, Unavailable
from dockyard.domain.failures import AlertmanagerFailure, AlertmanagerRefused
from dockyard.domain.names import text
from dockyard.domain.silences import Matcher, Silence, check_duration, parse_matchers, scoped_to
from dockyard.services.platform import Platform
from dockyard.services.ports import Silencer


async def create(
    platform: Platform, by: Principal, system: str, *, matchers: Any, duration_seconds: Any, reason: str
) -> Silence:
    authorize(by, "deploy", system)
    scoped = parse_matchers(matchers, system)
    seconds = check_duration(duration_seconds, platform.config.alerts.silence_max_seconds)
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput("reason", "say why the alerts are silenced")
    text("reason", reason, max_length=1000)
    await _system_exists(platform, system)
    silencer = _silencer(platform)
    starts = dt.datetime.now(dt.UTC)
    ends = starts + dt.timedelta(seconds=seconds)
    try:
        silence_id = await silencer.create(scoped, starts_at=starts, ends_at=ends, owner=by.name, reason=reason)
    except AlertmanagerRefused as e:
        raise InvalidInput("matchers", str(e)) from e
    except AlertmanagerFailure as e:
        raise Unavailable(str(e)) from e
    return Silence(silence_id, system, scoped, starts, ends, by.name, reason, "active")


async def of_system(platform: Platform, by: Principal, system: str, *, expired: bool = False) -> list[Silence]:
    """The system's silences, newest first; expired ones only when asked."""
    authorize(by, "read", system)
    await _system_exists(platform, system)
    found = [s for s in await _all(platform) if s.system == system and (expired or s.state != "expired")]
    return sorted(found, key=lambda s: s.starts_at, reverse=True)


async def expire(platform: Platform, by: Principal, system: str, silence_id: str) -> None:
    authorize(by, "deploy", system)
    await _system_exists(platform, system)  # a missing system is 404 whether or not Alertmanager answers
    mine = {s.id: s for s in await _all(platform) if s.system == system}
    if silence_id not in mine:
        raise NotFound(f"system {system!r} has no silence {silence_id!r}")
    try:
        await _silencer(platform).expire(silence_id)
    except AlertmanagerFailure as e:
        raise Unavailable(str(e)) from e


async def _all(platform: Platform) -> list[Silence]:
    try:
        raw = await _silencer(platform).silences()
    except AlertmanagerFailure as e:
        raise Unavailable(str(e)) from e
    out = []
    for item in raw:
        system = next(
            (m["value"] for m in item.get("matchers", []) if isinstance(m, Mapping) and m.get("name") == "system"), None
        )
        if isinstance(system, str) and scoped_to(item.get("matchers"), system):
            out.append(_silence(item, system))
    return out


def _silence(item: Mapping[str, Any], system: str) -> Silence:
    matchers = tuple(
        Matcher(str(m.get("name", "")), str(m.get("value", "")), bool(m.get("isEqual", True)))
        for m in item.get("matchers", [])
        if isinstance(m, Mapping)
    )
    status = item.get("status")
    state = status.get("state", "") if isinstance(status, Mapping) else ""
    return Silence(
        id=str(item.get("id", "")),
        system=system,
        matchers=matchers,
        starts_at=_time(item.get("startsAt")),
        ends_at=_time(item.get("endsAt")),
        owner=str(item.get("createdBy", "")),
        reason=str(item.get("comment", "")),
        state=str(state),
    )


def _time(raw: Any) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(str(raw).replace("Z", "+00:00")).astimezone(dt.UTC)
    except ValueError:
        return dt.datetime.fromtimestamp(0, dt.UTC)


def _silencer(platform: Platform) -> Silencer:
    if platform.silencer is None:
        raise Unavailable("no Alertmanager is configured (DOCKYARD_ALERTMANAGER_URL)")
    return platform.silencer


async def _system_exists(platform: Platform, system: str) -> None:
    async with platform.db.unit_of_work() as uow:
        if await uow.systems.get(system) is None:
            raise NotFound(f"system {system!r} does not exist")
