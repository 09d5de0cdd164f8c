"""Rows of versions: numbered per group from 1, immutable once stored.

Contract: a lookup returns ``None`` when absent; a missing group raises :class:`NotFound`; of two
concurrent ``add`` calls on one group, one gets the next number and the other :class:`Conflict`.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.adapters.db import rows
from dockyard.adapters.db.tables import GroupRow, VersionRow
from dockyard.domain.errors import Conflict
from dockyard.domain.model import GroupPath, Version
from dockyard.domain.versions import VersionSpec, load_spec


class Versions:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, path: GroupPath, spec: VersionSpec, *, by: str, reason: str = "") -> Version:
        """Store ``spec`` as the group's next version (latest + 1) and return it.

        The number is claimed by a conditional update of the group's ``latest_version``, so of two
        concurrent calls one gets the next number and the other a :class:`Conflict`.
        """
        row = await rows.require_group(self._session, path)
        number = row.latest_version + 1
        claimed = await self._session.execute(
            update(GroupRow)
            .where(GroupRow.id == row.id, GroupRow.latest_version == row.latest_version)
            .values(latest_version=number)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(f"group {path.group!r} changed meanwhile; try again")
        created = dt.datetime.now(dt.UTC)
        self._session.add(
            VersionRow(
                group_id=row.id, number=number, spec=spec.to_data(), created_by=by, reason=reason, created_at=created
            )
        )
        await self._session.flush()
        await self._session.refresh(row)
        return Version(path.system, path.app, path.group, number, spec, by, created, reason)

    async def get(self, path: GroupPath, number: int) -> Version | None:
        row = await rows.require_group(self._session, path)
        found = await self._session.scalar(
            select(VersionRow).where(VersionRow.group_id == row.id, VersionRow.number == number)
        )
        return _version(path, found) if found else None

    async def of_group(self, path: GroupPath) -> list[Version]:
        row = await rows.require_group(self._session, path)
        found = await self._session.scalars(
            select(VersionRow).where(VersionRow.group_id == row.id).order_by(VersionRow.number)
        )
        return [_version(path, r) for r in found]

    async def count(self) -> int:
        return int(await self._session.scalar(select(func.count()).select_from(VersionRow)) or 0)


def _version(path: GroupPath, row: VersionRow) -> Version:
    return Version(
        path.system, path.app, path.group, row.number, load_spec(row.spec), row.created_by, row.created_at, row.reason
    )
