"""Inspection runs with their reports, the platform's schedule, and the database's own size
(domain/inspection.py, domain/inspection_schedule.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.adapters.db.tables import InspectionRunRow, InspectionScheduleRow
from dockyard.domain.inspection import Change, Finding, Run, change_from_json
from dockyard.domain.inspection_schedule import Schedule

SCHEDULE_ID = 1


class Inspections:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    # --- the schedule -----------------------------------------------------------------------------

    async def schedule(self) -> Schedule:
        """The schedule as set; the default one (daily at 17:30 UTC, not yet due) if never set."""
        row = await self._session.get(InspectionScheduleRow, SCHEDULE_ID)
        if row is None:
            return Schedule()
        return Schedule(
            cron=row.cron,
            timezone=row.timezone,
            enabled=row.enabled,
            notify_system=row.notify_system,
            next_at=row.next_at,
            changed_by=row.changed_by,
            changed_at=row.changed_at,
        )

    async def set_schedule(self, schedule: Schedule) -> None:
        row = await self._session.get(InspectionScheduleRow, SCHEDULE_ID)
        if row is None:
            row = InspectionScheduleRow(id=SCHEDULE_ID)
            self._session.add(row)
        row.cron, row.timezone, row.enabled = schedule.cron, schedule.timezone, schedule.enabled
        row.notify_system, row.next_at = schedule.notify_system, schedule.next_at
        row.changed_by, row.changed_at = schedule.changed_by, schedule.changed_at
        await self._session.flush()

    async def advance(self, seen: dt.datetime | None, to: dt.datetime | None) -> bool:
        """Move ``next_at`` from ``seen`` to ``to`` unless another server moved it meanwhile; True if
        this call moved it (the caller then owns the run of slot ``seen``). Creates the default row
        when none exists (``seen`` None)."""
        if seen is None:
            if await self._session.get(InspectionScheduleRow, SCHEDULE_ID) is not None:
                return False
            default = Schedule()
            self._session.add(
                InspectionScheduleRow(
                    id=SCHEDULE_ID,
                    cron=default.cron,
                    timezone=default.timezone,
                    enabled=True,
                    notify_system="",
                    next_at=to,
                    changed_by="",
                    changed_at=None,
                )
            )
            await self._session.flush()  # a concurrent insert is a conflict at commit
            return True
        result = await self._session.execute(
            update(InspectionScheduleRow)
            .where(InspectionScheduleRow.id == SCHEDULE_ID, InspectionScheduleRow.next_at == seen)
            .values(next_at=to)
        )
        return bool(getattr(result, "rowcount", 0))

    # --- runs -------------------------------------------------------------------------------------

    async def start(self, *, trigger: str, by: str, clusters: Sequence[str], now: dt.datetime) -> int:
        row = InspectionRunRow(
            trigger=trigger,
            requested_by=by,
            clusters=list(clusters),
            status="running",
            started_at=now,
            result="",
            counts={},
            findings=[],
            changes=[],
            error="",
        )
        self._session.add(row)
        await self._session.flush()
        return row.id

    async def finish(
        self,
        run_id: int,
        *,
        status: str,
        result: str,
        counts: dict[str, int],
        findings: Sequence[Finding],
        changes: Sequence[Change],
        previous_id: int | None,
        error: str,
        now: dt.datetime,
    ) -> None:
        row = await self._session.get(InspectionRunRow, run_id)
        if row is None:
            return
        row.status, row.result, row.counts, row.error = status, result, dict(counts), error[:2000]
        row.findings = [f.to_json() for f in findings]
        row.changes = [c.to_json() for c in changes]
        row.previous_id, row.finished_at = previous_id, now
        await self._session.flush()

    async def get(self, run_id: int) -> Run | None:
        row = await self._session.get(InspectionRunRow, run_id)
        return _run(row) if row else None

    async def runs(self, *, limit: int = 50) -> list[Run]:
        """Newest first, without their findings (a list needs no evidence)."""
        rows = await self._session.scalars(select(InspectionRunRow).order_by(InspectionRunRow.id.desc()).limit(limit))
        return [_run(r, whole=False) for r in rows]

    async def last_done(self, *, before: int | None = None) -> Run | None:
        """The newest finished run (older than run ``before``)."""
        query = select(InspectionRunRow).where(InspectionRunRow.status == "done")
        if before is not None:
            query = query.where(InspectionRunRow.id < before)
        row = await self._session.scalar(query.order_by(InspectionRunRow.id.desc()).limit(1))
        return _run(row) if row else None

    async def abandon(self, *, started_before: dt.datetime, now: dt.datetime) -> int:
        """End as failed the runs still running that started before ``started_before`` (their server
        died mid-run); how many."""
        stale = InspectionRunRow.status == "running", InspectionRunRow.started_at < started_before
        if await self._session.scalar(select(InspectionRunRow.id).where(*stale).limit(1)) is None:
            return 0  # the usual case: no write (each server looks every 30 s)
        result = await self._session.execute(
            update(InspectionRunRow)
            .where(*stale)
            .values(status="failed", error="interrupted: its server stopped mid-run", finished_at=now)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    # --- the database itself ----------------------------------------------------------------------

    async def database_bytes(self) -> int:
        """The database's size on disk: PostgreSQL's ``pg_database_size``, SQLite's pages."""
        if self._session.get_bind().dialect.name == "postgresql":
            return int(await self._session.scalar(text("SELECT pg_database_size(current_database())")) or 0)
        pages = await self._session.scalar(text("PRAGMA page_count"))
        size = await self._session.scalar(text("PRAGMA page_size"))
        return int(pages or 0) * int(size or 0)


def _run(row: InspectionRunRow, *, whole: bool = True) -> Run:
    return Run(
        id=row.id,
        trigger=row.trigger,
        requested_by=row.requested_by,
        clusters=list(row.clusters),
        status=row.status,
        started_at=row.started_at,
        finished_at=row.finished_at,
        result=row.result,
        counts={str(k): int(v) for k, v in row.counts.items()},
        findings=[Finding.from_json(f) for f in row.findings] if whole else [],
        changes=[change_from_json(c) for c in row.changes] if whole else [],
        previous_id=row.previous_id,
        error=row.error,
    )
