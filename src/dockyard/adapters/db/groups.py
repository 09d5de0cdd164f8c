"""Rows of groups and of where each runs (its clusters, instances and version there).

Contract: a lookup returns ``None`` when absent; ``add`` of an existing name raises
:class:`Conflict`; a missing application, group or cluster raises :class:`NotFound`.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.adapters.db import rows
from dockyard.adapters.db.tables import (
    ApplicationRow,
    ClusterRow,
    GroupClusterRow,
    GroupRow,
    SystemRow,
    VersionRow,
)
from dockyard.domain.errors import Conflict, NotFound
from dockyard.domain.model import AppPath, Group, GroupPath


class Groups:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, group: Group) -> None:
        system = await rows.require_system(self._session, group.system)
        app = await rows.app_row(self._session, system.id, group.app)
        if app is None:
            raise NotFound(f"application {group.app!r} does not exist in system {group.system!r}")
        cluster = await rows.cluster_row(self._session, group.cluster)
        if await rows.group_row(self._session, group.path) is not None:
            raise Conflict(f"group {group.name!r} already exists in {group.system}/{group.app}")
        self._session.add(
            GroupRow(application_id=app.id, cluster_id=cluster.id, name=group.name, environment=group.environment)
        )
        await self._session.flush()

    async def get(self, path: GroupPath) -> Group | None:
        found = await self._session.execute(rows.groups_of(path.app_path).where(GroupRow.name == path.group))
        row = found.first()
        if row is None:
            return None
        return rows.group(path.app_path, row[0], row[1], await rows.group_parts(self._session, [row[0].id]))

    async def of_app(self, app: AppPath) -> list[Group]:
        found = (await self._session.execute(rows.groups_of(app).order_by(GroupRow.name))).all()
        parts = await rows.group_parts(self._session, [g.id for g, _ in found])
        return [rows.group(app, g, c, parts) for g, c in found]

    async def with_edge(self) -> list[Group]:
        """Every group with an edge entry, of every system, by system, application and name."""
        found = (
            await self._session.execute(
                select(GroupRow, ClusterRow.name, SystemRow.name, ApplicationRow.name)
                .join(ApplicationRow, GroupRow.application_id == ApplicationRow.id)
                .join(SystemRow, ApplicationRow.system_id == SystemRow.id)
                .join(ClusterRow, GroupRow.cluster_id == ClusterRow.id)
                .where(GroupRow.edge_port.is_not(None))
                .order_by(SystemRow.name, ApplicationRow.name, GroupRow.name)
            )
        ).all()
        parts = await rows.group_parts(self._session, [g.id for g, *_ in found])
        return [rows.group(AppPath(system, app), g, c, parts) for g, c, system, app in found]

    async def set_edge(self, path: GroupPath, port: str | None) -> None:
        """Give the group an edge entry serving ``port`` ("" its default port), or none (None)."""
        row = await rows.require_group(self._session, path)
        row.edge_port = port
        await self._session.flush()

    async def set_cluster(self, path: GroupPath, cluster: str, *, instances: int, version: int | None) -> None:
        """Record that the group runs ``instances`` of ``version`` on ``cluster`` (insert or update)."""
        row = await rows.require_group(self._session, path)
        cluster_row = await rows.cluster_row(self._session, cluster)
        part = await self._session.scalar(
            select(GroupClusterRow).where(
                GroupClusterRow.group_id == row.id, GroupClusterRow.cluster_id == cluster_row.id
            )
        )
        if part is None:
            self._session.add(
                GroupClusterRow(group_id=row.id, cluster_id=cluster_row.id, instances=instances, version=version)
            )
        else:
            part.instances, part.version = instances, version
        await self._session.flush()

    async def remove_cluster(self, path: GroupPath, cluster: str) -> None:
        row = await rows.require_group(self._session, path)
        cluster_id = select(ClusterRow.id).where(ClusterRow.name == cluster).scalar_subquery()
        await self._session.execute(
            delete(GroupClusterRow).where(GroupClusterRow.group_id == row.id, GroupClusterRow.cluster_id == cluster_id)
        )

    async def set_current_version(self, path: GroupPath, number: int) -> None:
        row = await rows.require_group(self._session, path)
        if number < 1 or number > row.latest_version:
            raise NotFound(f"version {number} does not exist in group {path.group!r}")
        row.current_version = number
        await self._session.flush()

    async def delete(self, path: GroupPath) -> None:
        """Delete the group and its versions."""
        row = await rows.require_group(self._session, path)
        await self._session.execute(delete(GroupClusterRow).where(GroupClusterRow.group_id == row.id))
        await self._session.execute(delete(VersionRow).where(VersionRow.group_id == row.id))
        await self._session.execute(delete(GroupRow).where(GroupRow.id == row.id))
