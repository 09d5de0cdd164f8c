"""System owners' overrides of the built-in alert rules, kept as revisions (domain/alert_rules.py)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.adapters.db.tables import (
    AlertRuleRevisionRow,
    ApplicationRow,
    GroupClusterRow,
    GroupRow,
    ReleaseRow,
    SystemRow,
    VersionRow,
)
from dockyard.domain.alert_rules import GroupFacts, Override
from dockyard.domain.errors import NotFound


class AlertRules:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def record(
        self,
        system: str,
        app: str,
        group: str | None,
        rule: str,
        *,
        threshold: float | None,
        enabled: bool | None,
        cleared: bool,
        by: str,
        reason: str,
    ) -> Override:
        """Add the next revision of one setting; a concurrent change of the same setting is a
        ``DatabaseConflict`` when the unit of work commits."""
        system_id = await self._session.scalar(select(SystemRow.id).where(SystemRow.name == system))
        if system_id is None:
            raise NotFound(f"system {system!r} does not exist")
        key = (
            AlertRuleRevisionRow.system_id == system_id,
            AlertRuleRevisionRow.app == app,
            AlertRuleRevisionRow.group_name == (group or ""),
            AlertRuleRevisionRow.rule == rule,
        )
        last = await self._session.scalar(select(func.max(AlertRuleRevisionRow.revision)).where(*key))
        row = AlertRuleRevisionRow(
            system_id=system_id,
            app=app,
            group_name=group or "",
            rule=rule,
            revision=(last or 0) + 1,
            threshold=threshold,
            enabled=enabled,
            cleared=cleared,
            reason=reason,
            changed_by=by,
            changed_at=dt.datetime.now(dt.UTC),
        )
        self._session.add(row)
        await self._session.flush()
        return _override(system, row)

    async def current(self, system: str | None = None) -> list[Override]:
        """The settings in force (the latest revision of each, unless it cleared it), of ``system``
        or of every system."""
        latest = (
            select(
                AlertRuleRevisionRow.system_id,
                AlertRuleRevisionRow.app,
                AlertRuleRevisionRow.group_name,
                AlertRuleRevisionRow.rule,
                func.max(AlertRuleRevisionRow.revision).label("revision"),
            )
            .group_by(
                AlertRuleRevisionRow.system_id,
                AlertRuleRevisionRow.app,
                AlertRuleRevisionRow.group_name,
                AlertRuleRevisionRow.rule,
            )
            .subquery()
        )
        query = (
            select(SystemRow.name, AlertRuleRevisionRow)
            .join(SystemRow, AlertRuleRevisionRow.system_id == SystemRow.id)
            .join(
                latest,
                (latest.c.system_id == AlertRuleRevisionRow.system_id)
                & (latest.c.app == AlertRuleRevisionRow.app)
                & (latest.c.group_name == AlertRuleRevisionRow.group_name)
                & (latest.c.rule == AlertRuleRevisionRow.rule)
                & (latest.c.revision == AlertRuleRevisionRow.revision),
            )
            .where(AlertRuleRevisionRow.cleared.is_(False))
            .order_by(
                SystemRow.name, AlertRuleRevisionRow.app, AlertRuleRevisionRow.group_name, AlertRuleRevisionRow.rule
            )
        )
        if system is not None:
            query = query.where(SystemRow.name == system)
        return [_override(name, row) for name, row in (await self._session.execute(query)).all()]

    async def history(self, system: str, *, limit: int = 200) -> list[Override]:
        """Every change of the system's settings, newest first."""
        rows = await self._session.scalars(
            select(AlertRuleRevisionRow)
            .join(SystemRow, AlertRuleRevisionRow.system_id == SystemRow.id)
            .where(SystemRow.name == system)
            .order_by(AlertRuleRevisionRow.id.desc())
            .limit(limit)
        )
        return [_override(system, r) for r in rows]

    async def group_facts(self, *, aborted_since: dt.datetime) -> list[GroupFacts]:
        """Every group's wanted instances, current flavor and releases aborted since ``aborted_since``,
        in three queries (the flavor and its recorded size read out of the version's JSON, not the whole spec)."""
        wanted = (
            select(GroupClusterRow.group_id, func.sum(GroupClusterRow.instances).label("wanted"))
            .group_by(GroupClusterRow.group_id)
            .subquery()
        )
        rows = (
            await self._session.execute(
                select(
                    SystemRow.name,
                    ApplicationRow.name,
                    GroupRow.name,
                    wanted.c.wanted,
                    VersionRow.spec["flavor"].as_string(),
                    VersionRow.spec[("size", "cpu_millis")].as_integer(),
                    VersionRow.spec[("size", "memory_mib")].as_integer(),
                )
                .join(ApplicationRow, ApplicationRow.system_id == SystemRow.id)
                .join(GroupRow, GroupRow.application_id == ApplicationRow.id)
                .outerjoin(wanted, wanted.c.group_id == GroupRow.id)
                .outerjoin(
                    VersionRow, (VersionRow.group_id == GroupRow.id) & (VersionRow.number == GroupRow.current_version)
                )
                .order_by(SystemRow.name, ApplicationRow.name, GroupRow.name)
            )
        ).all()
        aborted = {
            (s, a, g): n
            for s, a, g, n in (
                await self._session.execute(
                    select(ReleaseRow.system, ReleaseRow.app, ReleaseRow.group, func.count())
                    .where(ReleaseRow.status == "aborted", ReleaseRow.updated_at >= aborted_since)
                    .group_by(ReleaseRow.system, ReleaseRow.app, ReleaseRow.group)
                )
            ).all()
        }
        return [
            GroupFacts(s, a, g, int(w or 0), f or None, aborted.get((s, a, g), 0), (cpu, mem) if cpu and mem else None)
            for s, a, g, w, f, cpu, mem in rows
        ]

    async def group_paths(self, system: str | None = None) -> list[tuple[str, str, str]]:
        """``(system, app, group)`` of every group (of ``system``), in one query."""
        query = (
            select(SystemRow.name, ApplicationRow.name, GroupRow.name)
            .join(ApplicationRow, ApplicationRow.system_id == SystemRow.id)
            .join(GroupRow, GroupRow.application_id == ApplicationRow.id)
            .order_by(SystemRow.name, ApplicationRow.name, GroupRow.name)
        )
        if system is not None:
            query = query.where(SystemRow.name == system)
        return [(s, a, g) for s, a, g in (await self._session.execute(query)).all()]


def _override(system: str, row: AlertRuleRevisionRow) -> Override:
    return Override(
        system=system,
        app=row.app,
        group=row.group_name or None,
        rule=row.rule,
        threshold=row.threshold,
        enabled=row.enabled,
        revision=row.revision,
        by=row.changed_by,
        at=row.changed_at,
        reason=row.reason,
        cleared=row.cleared,
    )
