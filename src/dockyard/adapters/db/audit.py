"""The audit trail's rows and its head. Entries are only ever inserted; the head row moves with them.

Contract of appending: :meth:`AuditTrail.lock_head` first, then :meth:`AuditTrail.append`, in one unit
of work. Locking the head is an UPDATE of its one row, which holds a write lock until the unit of work
ends (a row lock on PostgreSQL, the database's write lock on SQLite), so two appenders never read the
same head and the chain cannot fork; the unique ``seq`` backs this up.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.adapters.db.tables import AuditEntryRow, AuditHeadRow
from dockyard.domain.audit import AuditEntry, AuditQuery, AuditRecord, Head, Outcome

_HEAD = 1


class AuditTrail:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def lock_head(self) -> Head | None:
        """The head, locked for this unit of work; None if its row is missing."""
        await self._session.execute(
            update(AuditHeadRow)
            .where(AuditHeadRow.id == _HEAD)
            .values(seq=AuditHeadRow.seq)
            .execution_options(synchronize_session=False)
        )
        return await self.head()

    async def head(self) -> Head | None:
        row = (
            await self._session.execute(select(AuditHeadRow.seq, AuditHeadRow.hash).where(AuditHeadRow.id == _HEAD))
        ).first()
        return Head(row.seq, row.hash) if row else None

    async def append(self, entry: AuditEntry) -> None:
        """Insert ``entry`` and move the head to it (after :meth:`lock_head`)."""
        r = entry.record
        self._session.add(
            AuditEntryRow(
                seq=entry.seq,
                at=r.at,
                actor=r.actor,
                source_ip=r.source_ip,
                request_id=r.request_id,
                method=r.method,
                action=r.action,
                target=dict(r.target),
                system=r.system,
                outcome=r.outcome,
                status=r.status,
                reason=r.reason,
                changes=dict(r.changes),
                prev_hash=entry.prev_hash,
                hash=entry.hash,
            )
        )
        await self._session.flush()
        await self._session.execute(
            update(AuditHeadRow)
            .where(AuditHeadRow.id == _HEAD)
            .values(seq=entry.seq, hash=entry.hash)
            .execution_options(synchronize_session=False)
        )

    async def chain(self, *, after: int, upto: int, limit: int) -> list[AuditEntry]:
        """Up to ``limit`` entries with ``after < seq <= upto``, oldest first."""
        rows = await self._session.scalars(
            select(AuditEntryRow)
            .where(AuditEntryRow.seq > after, AuditEntryRow.seq <= upto)
            .order_by(AuditEntryRow.seq)
            .limit(limit)
        )
        return [_entry(r) for r in rows]

    async def find(self, query: AuditQuery) -> list[AuditEntry]:
        """The entries matching ``query``, newest (highest ``seq``) first."""
        rows = await self._session.scalars(
            select(AuditEntryRow).where(*_conditions(query)).order_by(AuditEntryRow.seq.desc()).limit(query.limit)
        )
        return [_entry(r) for r in rows]


def _conditions(q: AuditQuery) -> list[ColumnElement[bool]]:
    row = AuditEntryRow
    conditions = [
        row.system == q.system if q.system is not None else None,
        row.actor == q.actor if q.actor is not None else None,
        row.action == q.action if q.action is not None else None,
        row.outcome == q.outcome if q.outcome is not None else None,
        row.at >= q.since if q.since is not None else None,
        row.at < q.until if q.until is not None else None,
        row.seq < q.before if q.before is not None else None,
    ]
    return [c for c in conditions if c is not None]


def _entry(row: AuditEntryRow) -> AuditEntry:
    record = AuditRecord(
        at=row.at,
        actor=row.actor,
        source_ip=row.source_ip,
        request_id=row.request_id,
        method=row.method,
        action=row.action,
        target=row.target,
        system=row.system,
        outcome=cast(Outcome, row.outcome),
        status=row.status,
        reason=row.reason,
        changes=row.changes,
    )
    return AuditEntry(seq=row.seq, record=record, prev_hash=row.prev_hash, hash=row.hash)
