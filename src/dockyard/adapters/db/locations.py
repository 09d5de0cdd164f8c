"""Location grants of systems: requested, approved or revoked (see domain/location.py)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.adapters.db.tables import LocationGrantRow, SystemRow
from dockyard.domain.errors import NotFound
from dockyard.domain.location import Grant, Location, parse_location


class LocationGrants:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def request(self, system: str, location: Location, *, by: str, reason: str) -> Grant:
        system_id = await self._session.scalar(select(SystemRow.id).where(SystemRow.name == system))
        if system_id is None:
            raise NotFound(f"system {system!r} does not exist")
        row = LocationGrantRow(
            system_id=system_id,
            location=location.to_data(),
            status="requested",
            reason=reason,
            requested_by=by,
            decided_by="",
            requested_at=dt.datetime.now(dt.UTC),
        )
        self._session.add(row)
        await self._session.flush()
        return _grant(system, row)

    async def of_system(self, system: str) -> list[Grant]:
        rows = await self._session.scalars(
            select(LocationGrantRow)
            .join(SystemRow, LocationGrantRow.system_id == SystemRow.id)
            .where(SystemRow.name == system)
            .order_by(LocationGrantRow.id)
        )
        return [_grant(system, r) for r in rows]

    async def approved(self, system: str) -> list[Location]:
        return [g.location for g in await self.of_system(system) if g.status == "approved"]

    async def decide(self, system: str, grant_id: int, *, status: str, by: str) -> Grant | None:
        """Set the grant's status; None if the system has no such grant."""
        row = await self._session.scalar(
            select(LocationGrantRow)
            .join(SystemRow, LocationGrantRow.system_id == SystemRow.id)
            .where(SystemRow.name == system, LocationGrantRow.id == grant_id)
        )
        if row is None:
            return None
        row.status, row.decided_by, row.decided_at = status, by, dt.datetime.now(dt.UTC)
        await self._session.flush()
        return _grant(system, row)


def _grant(system: str, row: LocationGrantRow) -> Grant:
    location = parse_location(row.location, "location")
    assert location is not None
    return Grant(row.id, system, location, row.status, row.reason, row.requested_by, row.decided_by)
