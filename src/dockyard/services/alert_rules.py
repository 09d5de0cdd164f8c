"""Alert rules of a system: the built-in catalogue, the owner's overrides per application or group,
their history, and the resolved thresholds Prometheus joins (``dockyard_alert_threshold``).

Contracts: reading needs ``read`` on the system (a caller who cannot see it gets 404); changing an
override needs ``manage`` (the system's owner, or the application's) and names an existing
application (and group); each change adds a revision with who, when and why, and the API's audit
middleware records the request. Two concurrent changes of one setting: one gets 409. Changes take
effect at Prometheus' next scrape of Dockyard's metrics, never by editing a rule file.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from dockyard.domain.access import Principal, authorize
from dockyard.domain.alert_rules import Effective, GroupFacts, Override, check_threshold, resolve, rule
from dockyard.domain.errors import InvalidInput, NotFound
from dockyard.domain.model import AppPath, GroupPath
from dockyard.domain.names import text
from dockyard.services.platform import Platform
from dockyard.services.ports import UnitOfWork

ABORTED_WINDOW = 1800.0  # seconds: "a release aborted" counts releases aborted this recently


@dataclass(frozen=True)
class SystemRules:
    """What holds for a system: its overrides and every group's resolved rules."""

    overrides: list[Override]
    effective: list[Effective]


async def of_system(platform: Platform, by: Principal, system: str) -> SystemRules:
    authorize(by, "read", system)
    async with platform.db.unit_of_work() as uow:
        if await uow.systems.get(system) is None:
            raise NotFound(f"system {system!r} does not exist")
        overrides = await uow.alert_rules.current(system)
        groups = await uow.alert_rules.group_paths(system)
    return SystemRules(overrides, resolve(system, [(a, g) for _, a, g in groups], overrides))


async def history(platform: Platform, by: Principal, system: str) -> list[Override]:
    authorize(by, "read", system)
    async with platform.db.unit_of_work() as uow:
        if await uow.systems.get(system) is None:
            raise NotFound(f"system {system!r} does not exist")
        return await uow.alert_rules.history(system)


async def set_override(
    platform: Platform,
    by: Principal,
    app: AppPath,
    group: str | None,
    key: str,
    *,
    threshold: float | None,
    enabled: bool | None,
    reason: str = "",
) -> Override:
    """Set the rule ``key`` for the application ``app`` (``group`` None) or its group ``group``."""
    authorize(by, "manage", app.system, app.app)
    rule(key)
    check_threshold(key, threshold)
    if threshold is None and enabled is None:
        raise InvalidInput("threshold", "give a threshold, enabled, or both")
    text("reason", reason, max_length=1000)
    async with platform.db.unit_of_work() as uow:
        await _exists(uow, app, group)
        return await uow.alert_rules.record(
            app.system, app.app, group, key, threshold=threshold, enabled=enabled, cleared=False, by=by.name,
            reason=reason,
        )  # fmt: skip


async def clear_override(
    platform: Platform, by: Principal, app: AppPath, group: str | None, key: str, *, reason: str = ""
) -> Override:
    """Remove the override: the group (or application) inherits again. NotFound if there is none."""
    authorize(by, "manage", app.system, app.app)
    rule(key)
    text("reason", reason, max_length=1000)
    async with platform.db.unit_of_work() as uow:
        await _exists(uow, app, group)
        current = [
            o for o in await uow.alert_rules.current(app.system) if (o.app, o.group, o.rule) == (app.app, group, key)
        ]
        if not current:
            where = f"{app.system}/{app.app}" + (f"/{group}" if group else "")
            raise NotFound(f"{where} has no override of {key}")
        return await uow.alert_rules.record(
            app.system, app.app, group, key, threshold=None, enabled=None, cleared=True, by=by.name, reason=reason
        )


@dataclass(frozen=True)
class Inputs:
    """What Dockyard exports for the alert rules: every group's enabled thresholds and its facts."""

    thresholds: list[Effective]
    groups: list[GroupFacts]


async def inputs(platform: Platform, *, now: dt.datetime) -> Inputs:
    """The alert rules' inputs from the database (no authorization here: the caller is the metrics
    endpoint, which has its own)."""
    async with platform.db.unit_of_work() as uow:
        facts = await uow.alert_rules.group_facts(aborted_since=now - dt.timedelta(seconds=ABORTED_WINDOW))
    return Inputs(await thresholds(platform), facts)


async def thresholds(platform: Platform) -> list[Effective]:
    """Every group's resolved rules, enabled ones only: the series ``dockyard_alert_threshold``."""
    async with platform.db.unit_of_work() as uow:
        overrides = await uow.alert_rules.current()
        groups = await uow.alert_rules.group_paths()
    by_system: dict[str, list[tuple[str, str]]] = {}
    for system, app, group in groups:
        by_system.setdefault(system, []).append((app, group))
    out: list[Effective] = []
    for system, paths in by_system.items():
        out += [e for e in resolve(system, paths, [o for o in overrides if o.system == system]) if e.enabled]
    return out


async def _exists(uow: UnitOfWork, app: AppPath, group: str | None) -> None:
    if group is None:
        if await uow.applications.get(app) is None:
            raise NotFound(f"application {app.system}/{app.app} does not exist")
    elif await uow.groups.get(GroupPath(app.system, app.app, group)) is None:
        raise NotFound(f"group {app.system}/{app.app}/{group} does not exist")
