"""Rows of systems.

Contract: a lookup by name returns ``None`` when absent; ``add`` of an existing name raises
:class:`Conflict`; a concurrent insert of the same name surfaces as a conflict when the unit of work
commits.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.adapters.db import rows
from dockyard.adapters.db.tables import SystemRow
from dockyard.domain.errors import Conflict
from dockyard.domain.model import System


class Systems:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, system: System) -> None:
        if await rows.system_row(self._session, system.name) is not None:
            raise Conflict(f"system {system.name!r} already exists")
        self._session.add(
            SystemRow(
                name=system.name,
                description=system.description,
                quota_cpu_millis=system.quota.cpu_millis,
                quota_memory_mib=system.quota.memory_mib,
            )
        )
        await self._session.flush()

    async def get(self, name: str) -> System | None:
        row = await rows.system_row(self._session, name)
        return rows.system(row) if row else None

    async def all(self) -> list[System]:
        found = await self._session.scalars(select(SystemRow).order_by(SystemRow.name))
        return [rows.system(r) for r in found]

    async def delete(self, name: str) -> None:
        await self._session.execute(delete(SystemRow).where(SystemRow.name == name))
