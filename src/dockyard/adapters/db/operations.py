"""Operation rows: the history of every mutating action, per system, application and group."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.adapters.db.tables import OperationRow
from dockyard.domain.errors import NotFound
from dockyard.domain.model import AppPath, GroupPath, Operation, OperationStatus
from dockyard.domain.operations import OperationParams, parse_params, to_data


class OperationLog:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, operation: Operation) -> None:
        self._session.add(
            OperationRow(
                id=operation.id,
                action=operation.action,
                actor=operation.actor,
                system=operation.system,
                app=operation.app,
                group=operation.group,
                params=to_data(operation.params),
                status=operation.status,
                error=operation.error,
                started_at=operation.started_at,
                finished_at=operation.finished_at,
                # Set here, to the microsecond: SQLite's CURRENT_TIMESTAMP has whole seconds only.
                created_at=dt.datetime.now(dt.UTC),
            )
        )
        await self._session.flush()

    async def get(self, operation_id: str) -> Operation | None:
        row = await self._session.get(OperationRow, operation_id)
        return _operation(row) if row else None

    async def start(self, operation_id: str) -> None:
        """Mark ``pending`` → ``running`` (kept as it is when already running: a resumed operation)."""
        row = await self._session.get(OperationRow, operation_id)
        if row is None:
            raise NotFound(f"operation {operation_id!r} does not exist")
        if row.status == "pending":
            row.status, row.started_at = "running", dt.datetime.now(dt.UTC)
            await self._session.flush()

    async def unfinished(self) -> list[Operation]:
        """Operations still pending or running, oldest first: what a (re)started executor must drive."""
        rows = await self._session.scalars(
            select(OperationRow)
            .where(OperationRow.status.in_(("pending", "running")))
            .order_by(OperationRow.created_at)
        )
        return [_operation(r) for r in rows]

    async def claim(self, operation_id: str, runner: str, *, seconds: float) -> bool:
        """Take (or renew) the lease of an unfinished operation for ``runner`` for ``seconds``; False if
        another runner holds an unexpired lease, or the operation has ended. One conditional update,
        so of two executors racing for an operation exactly one wins."""
        now = dt.datetime.now(dt.UTC)
        done = await self._session.execute(
            update(OperationRow)
            .where(
                OperationRow.id == operation_id,
                OperationRow.status.in_(("pending", "running")),
                or_(
                    OperationRow.runner == runner,
                    OperationRow.lease_until.is_(None),
                    OperationRow.lease_until < now,
                ),
            )
            .values(runner=runner, lease_until=now + dt.timedelta(seconds=seconds))
            .execution_options(synchronize_session=False)
        )
        return bool(done.rowcount)  # type: ignore[attr-defined]

    async def active(self, path: GroupPath) -> Operation | None:
        """The group's unfinished operation, if any (there is at most one)."""
        row = await self._session.scalar(
            select(OperationRow).where(
                OperationRow.system == path.system,
                OperationRow.app == path.app,
                OperationRow.group == path.group,
                OperationRow.status.in_(("pending", "running")),
            )
        )
        return _operation(row) if row else None

    async def finish(self, operation_id: str, status: OperationStatus, *, error: str = "") -> bool:
        """Record the end of an unfinished operation; False (and no change) if it had already ended,
        so a second runner of the same operation can never overwrite the first one's result."""
        done = await self._session.execute(
            update(OperationRow)
            .where(OperationRow.id == operation_id, OperationRow.status.in_(("pending", "running")))
            .values(status=status, error=error[:4000], finished_at=dt.datetime.now(dt.UTC))
            .execution_options(synchronize_session=False)
        )
        return bool(done.rowcount)  # type: ignore[attr-defined]

    async def set_params(self, operation_id: str, params: OperationParams) -> None:
        """Replace the operation's parameters (e.g. with the split it computed, so a resumed run keeps it)."""
        row = await self._session.get(OperationRow, operation_id)
        if row is not None:
            row.params = to_data(params)
            await self._session.flush()

    async def history(self, scope: str | AppPath | GroupPath, *, limit: int = 100) -> list[Operation]:
        """Newest first, of a system (its name), an application or a group."""
        system = scope if isinstance(scope, str) else scope.system
        query = select(OperationRow).where(OperationRow.system == system)
        if not isinstance(scope, str):
            query = query.where(OperationRow.app == scope.app)
        if isinstance(scope, GroupPath):
            query = query.where(OperationRow.group == scope.group)
        rows = await self._session.scalars(query.order_by(OperationRow.created_at.desc()).limit(limit))
        return [_operation(r) for r in rows]


def _operation(row: OperationRow) -> Operation:
    return Operation(
        id=row.id,
        action=row.action,
        actor=row.actor,
        system=row.system,
        app=row.app,
        group=row.group,
        params=parse_params(row.action, row.params or {}),
        status=row.status,  # type: ignore[arg-type]
        error=row.error,
        started_at=row.started_at,
        finished_at=row.finished_at,
    )
