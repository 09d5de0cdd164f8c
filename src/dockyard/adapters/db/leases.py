"""Named leases: one holder at a time, until it expires or is given back."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.adapters.db.tables import LeaseRow


class Leases:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def claim(self, name: str, holder: str, *, seconds: float) -> bool:
        """Take (or renew) lease ``name`` for ``holder`` for ``seconds``; False while another holder's
        lease runs. A conditional update, else an insert: of two racing holders, one update wins, or one
        insert (the other's unit of work ends in :class:`DatabaseConflictError`, which is a no)."""
        now = dt.datetime.now(dt.UTC)
        until = now + dt.timedelta(seconds=seconds)
        done = await self._session.execute(
            update(LeaseRow)
            .where(LeaseRow.name == name, or_(LeaseRow.holder == holder, LeaseRow.until < now))
            .values(holder=holder, until=until)
            .execution_options(synchronize_session=False)
        )
        if done.rowcount:  # type: ignore[attr-defined]
            return True
        if await self._session.scalar(select(LeaseRow.name).where(LeaseRow.name == name)) is not None:
            return False
        self._session.add(LeaseRow(name=name, holder=holder, until=until))
        await self._session.flush()
        return True

    async def release(self, name: str, holder: str) -> None:
        """Give lease ``name`` back, if ``holder`` holds it."""
        await self._session.execute(delete(LeaseRow).where(LeaseRow.name == name, LeaseRow.holder == holder))
