"""Rows of applications.

Contract: a lookup returns ``None`` when absent; ``add`` of an existing name raises
:class:`Conflict`; a missing system raises :class:`NotFound`. A concurrent insert of the same name
surfaces as a conflict when the unit of work commits.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.adapters.db import rows
from dockyard.adapters.db.tables import ApplicationRow, SystemRow
from dockyard.domain.errors import Conflict, NotFound
from dockyard.domain.location import Location
from dockyard.domain.model import Application, AppPath


class Applications:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, app: Application) -> None:
        system = await rows.require_system(self._session, app.system)
        if await rows.app_row(self._session, system.id, app.name) is not None:
            raise Conflict(f"application {app.name!r} already exists in system {app.system!r}")
        self._session.add(
            ApplicationRow(
                system_id=system.id,
                name=app.name,
                repository=app.repository,
                business_id=app.business_id,
                owners=list(app.owners),
                location=app.location.to_data() if app.location else None,
            )
        )
        await self._session.flush()

    async def set_location(self, path: AppPath, location: Location | None) -> None:
        row = await rows.app_row(self._session, (await rows.require_system(self._session, path.system)).id, path.app)
        if row is None:
            raise NotFound(f"application {path.app!r} does not exist in system {path.system!r}")
        row.location = location.to_data() if location else None
        await self._session.flush()

    async def get(self, path: AppPath) -> Application | None:
        row = await self._session.scalar(
            select(ApplicationRow).join(SystemRow).where(SystemRow.name == path.system, ApplicationRow.name == path.app)
        )
        return rows.application(path.system, row) if row else None

    async def of_system(self, system: str) -> list[Application]:
        found = await self._session.scalars(
            select(ApplicationRow).join(SystemRow).where(SystemRow.name == system).order_by(ApplicationRow.name)
        )
        return [rows.application(system, r) for r in found]

    async def delete(self, path: AppPath) -> None:
        row = await rows.require_system(self._session, path.system)
        await self._session.execute(
            delete(ApplicationRow).where(ApplicationRow.system_id == row.id, ApplicationRow.name == path.app)
        )
