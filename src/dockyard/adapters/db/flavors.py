"""Rows of the flavor catalog, and which groups use a flavor.

Contract: lookups return ``None`` when absent; adding a name that exists is a database conflict when
the unit of work commits; :meth:`Flavors.users` reads the flavor name out of the versions' JSON (no
whole spec is loaded).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.adapters.db.tables import ApplicationRow, FlavorRow, GroupRow, SystemRow, VersionRow
from dockyard.domain.flavors import Flavor


class Flavors:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def all(self) -> list[Flavor]:
        """The catalog, smallest first (CPU, then memory, then name)."""
        rows = await self._session.scalars(
            select(FlavorRow).order_by(FlavorRow.cpu_millis, FlavorRow.memory_mib, FlavorRow.name)
        )
        return [_flavor(r) for r in rows]

    async def get(self, name: str) -> Flavor | None:
        row = await self._session.scalar(select(FlavorRow).where(FlavorRow.name == name))
        return _flavor(row) if row else None

    async def add(self, flavor: Flavor, *, by: str) -> None:
        self._session.add(
            FlavorRow(name=flavor.name, updated_by=by, updated_at=dt.datetime.now(dt.UTC), **_values(flavor))
        )
        await self._session.flush()

    async def update(self, flavor: Flavor, *, by: str) -> bool:
        """Replace the flavor called ``flavor.name``; False if there is none."""
        row = await self._session.scalar(select(FlavorRow).where(FlavorRow.name == flavor.name).with_for_update())
        if row is None:
            return False
        for key, value in _values(flavor).items():
            setattr(row, key, value)
        row.updated_by, row.updated_at = by, dt.datetime.now(dt.UTC)
        await self._session.flush()
        return True

    async def delete(self, name: str) -> bool:
        result = await self._session.execute(delete(FlavorRow).where(FlavorRow.name == name))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def users(self, name: str) -> list[str]:
        """``system/app/group`` of every group whose current or latest version has flavor ``name``."""
        rows = await self._session.execute(
            select(SystemRow.name, ApplicationRow.name, GroupRow.name)
            .join(ApplicationRow, ApplicationRow.system_id == SystemRow.id)
            .join(GroupRow, GroupRow.application_id == ApplicationRow.id)
            .join(VersionRow, VersionRow.group_id == GroupRow.id)
            .where(
                or_(VersionRow.number == GroupRow.current_version, VersionRow.number == GroupRow.latest_version),
                VersionRow.spec["flavor"].as_string() == name,
            )
            .distinct()
            .order_by(SystemRow.name, ApplicationRow.name, GroupRow.name)
        )
        return [f"{s}/{a}/{g}" for s, a, g in rows.all()]


def _values(flavor: Flavor) -> dict[str, object]:
    return {
        "cpu_millis": flavor.cpu_millis,
        "memory_mib": flavor.memory_mib,
        "extended": dict(flavor.extended),
        "clusters": list(flavor.clusters),
        "pools": list(flavor.pools),
        "description": flavor.description,
    }


def _flavor(row: FlavorRow) -> Flavor:
    return Flavor(
        name=row.name,
        cpu_millis=row.cpu_millis,
        memory_mib=row.memory_mib,
        extended=tuple(sorted((row.extended or {}).items())),
        clusters=tuple(row.clusters or ()),
        pools=tuple(row.pools or ()),
        description=row.description,
    )
