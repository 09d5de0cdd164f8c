"""Rows of the application model: systems, applications, groups and their versions.

Contract: lookups by name return ``None`` when absent; ``add`` of an existing name raises
:class:`Conflict`; a reference to a missing parent raises :class:`NotFound`. A concurrent insert of
the same name or version number surfaces as a conflict when the unit of work commits.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.adapters.db.tables import (
    ApplicationRow,
    ClusterRow,
    GroupClusterRow,
    GroupRow,
    SystemRow,
    VersionRow,
)
from dockyard.domain.errors import Conflict, NotFound
from dockyard.domain.location import Location, parse_location
from dockyard.domain.model import Application, Group, GroupCluster, Quota, System, Version
from dockyard.domain.versions import VersionSpec, load_spec


class ApplicationModel:
    """Systems, applications, groups and versions in one session."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    # systems -------------------------------------------------------------------------------------
    async def add_system(self, system: System) -> None:
        if await self._system_row(system.name) is not None:
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

    async def system(self, name: str) -> System | None:
        row = await self._system_row(name)
        return _system(row) if row else None

    async def systems(self) -> list[System]:
        rows = await self._session.scalars(select(SystemRow).order_by(SystemRow.name))
        return [_system(r) for r in rows]

    async def delete_system(self, name: str) -> None:
        await self._session.execute(delete(SystemRow).where(SystemRow.name == name))

    # applications --------------------------------------------------------------------------------
    async def add_application(self, app: Application) -> None:
        system = await self._require_system(app.system)
        if await self._app_row(system.id, app.name) is not None:
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

    async def set_application_location(self, system: str, name: str, location: Location | None) -> None:
        row = await self._app_row((await self._require_system(system)).id, name)
        if row is None:
            raise NotFound(f"application {name!r} does not exist in system {system!r}")
        row.location = location.to_data() if location else None
        await self._session.flush()

    async def application(self, system: str, name: str) -> Application | None:
        row = await self._session.scalar(
            select(ApplicationRow).join(SystemRow).where(SystemRow.name == system, ApplicationRow.name == name)
        )
        return _application(system, row) if row else None

    async def applications(self, system: str) -> list[Application]:
        rows = await self._session.scalars(
            select(ApplicationRow).join(SystemRow).where(SystemRow.name == system).order_by(ApplicationRow.name)
        )
        return [_application(system, r) for r in rows]

    async def delete_application(self, system: str, name: str) -> None:
        row = await self._require_system(system)
        await self._session.execute(
            delete(ApplicationRow).where(ApplicationRow.system_id == row.id, ApplicationRow.name == name)
        )

    # groups --------------------------------------------------------------------------------------
    async def add_group(self, group: Group) -> None:
        system = await self._require_system(group.system)
        app = await self._app_row(system.id, group.app)
        if app is None:
            raise NotFound(f"application {group.app!r} does not exist in system {group.system!r}")
        cluster = await self._session.scalar(select(ClusterRow).where(ClusterRow.name == group.cluster))
        if cluster is None:
            raise NotFound(f"cluster {group.cluster!r} is not registered")
        if await self._group_row(group.system, group.app, group.name) is not None:
            raise Conflict(f"group {group.name!r} already exists in {group.system}/{group.app}")
        self._session.add(
            GroupRow(application_id=app.id, cluster_id=cluster.id, name=group.name, environment=group.environment)
        )
        await self._session.flush()

    async def group(self, system: str, app: str, name: str) -> Group | None:
        found = await self._session.execute(_groups(system, app).where(GroupRow.name == name))
        row = found.first()
        return _group(system, app, row[0], row[1], await self._parts([row[0].id])) if row else None

    async def groups(self, system: str, app: str) -> list[Group]:
        found = (await self._session.execute(_groups(system, app).order_by(GroupRow.name))).all()
        parts = await self._parts([g.id for g, _ in found])
        return [_group(system, app, g, c, parts) for g, c in found]

    async def set_group_cluster(
        self, system: str, app: str, group: str, cluster: str, *, instances: int, version: int | None
    ) -> None:
        """Record that ``group`` runs ``instances`` of ``version`` on ``cluster`` (insert or update)."""
        row = await self._require_group(system, app, group)
        cluster_row = await self._session.scalar(select(ClusterRow).where(ClusterRow.name == cluster))
        if cluster_row is None:
            raise NotFound(f"cluster {cluster!r} is not registered")
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

    async def remove_group_cluster(self, system: str, app: str, group: str, cluster: str) -> None:
        row = await self._require_group(system, app, group)
        cluster_id = select(ClusterRow.id).where(ClusterRow.name == cluster).scalar_subquery()
        await self._session.execute(
            delete(GroupClusterRow).where(GroupClusterRow.group_id == row.id, GroupClusterRow.cluster_id == cluster_id)
        )

    async def _parts(self, group_ids: list[int]) -> dict[int, list[GroupCluster]]:
        if not group_ids:
            return {}
        rows = await self._session.execute(
            select(GroupClusterRow, ClusterRow.name)
            .join(ClusterRow, GroupClusterRow.cluster_id == ClusterRow.id)
            .where(GroupClusterRow.group_id.in_(group_ids))
            .order_by(ClusterRow.name)
        )
        out: dict[int, list[GroupCluster]] = {}
        for part, name in rows.all():
            out.setdefault(part.group_id, []).append(GroupCluster(name, part.instances, part.version))
        return out

    async def set_current_version(self, system: str, app: str, group: str, number: int) -> None:
        row = await self._require_group(system, app, group)
        if number < 1 or number > row.latest_version:
            raise NotFound(f"version {number} does not exist in group {group!r}")
        row.current_version = number
        await self._session.flush()

    async def delete_group(self, system: str, app: str, name: str) -> None:
        """Delete the group and its versions."""
        row = await self._require_group(system, app, name)
        await self._session.execute(delete(GroupClusterRow).where(GroupClusterRow.group_id == row.id))
        await self._session.execute(delete(VersionRow).where(VersionRow.group_id == row.id))
        await self._session.execute(delete(GroupRow).where(GroupRow.id == row.id))

    # versions ------------------------------------------------------------------------------------
    async def add_version(
        self, system: str, app: str, group: str, spec: VersionSpec, *, by: str, reason: str = ""
    ) -> Version:
        """Store ``spec`` as the group's next version (latest + 1) and return it.

        The number is claimed by a conditional update of the group's ``latest_version``, so of two
        concurrent calls one gets the next number and the other a :class:`Conflict`.
        """
        row = await self._require_group(system, app, group)
        number = row.latest_version + 1
        claimed = await self._session.execute(
            update(GroupRow)
            .where(GroupRow.id == row.id, GroupRow.latest_version == row.latest_version)
            .values(latest_version=number)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(f"group {group!r} changed meanwhile; try again")
        created = _now()
        self._session.add(
            VersionRow(
                group_id=row.id, number=number, spec=spec.to_data(), created_by=by, reason=reason, created_at=created
            )
        )
        await self._session.flush()
        await self._session.refresh(row)
        return Version(system, app, group, number, spec, by, created, reason)

    async def version(self, system: str, app: str, group: str, number: int) -> Version | None:
        row = await self._require_group(system, app, group)
        found = await self._session.scalar(
            select(VersionRow).where(VersionRow.group_id == row.id, VersionRow.number == number)
        )
        return _version(system, app, group, found) if found else None

    async def versions(self, system: str, app: str, group: str) -> list[Version]:
        row = await self._require_group(system, app, group)
        rows = await self._session.scalars(
            select(VersionRow).where(VersionRow.group_id == row.id).order_by(VersionRow.number)
        )
        return [_version(system, app, group, r) for r in rows]

    async def count_versions(self) -> int:
        return int(await self._session.scalar(select(func.count()).select_from(VersionRow)) or 0)

    # helpers -------------------------------------------------------------------------------------
    async def _system_row(self, name: str) -> SystemRow | None:
        row: SystemRow | None = await self._session.scalar(select(SystemRow).where(SystemRow.name == name))
        return row

    async def _require_system(self, name: str) -> SystemRow:
        row = await self._system_row(name)
        if row is None:
            raise NotFound(f"system {name!r} does not exist")
        return row

    async def _app_row(self, system_id: int, name: str) -> ApplicationRow | None:
        row: ApplicationRow | None = await self._session.scalar(
            select(ApplicationRow).where(ApplicationRow.system_id == system_id, ApplicationRow.name == name)
        )
        return row

    async def _group_row(self, system: str, app: str, name: str) -> GroupRow | None:
        found = await self._session.execute(_groups(system, app).where(GroupRow.name == name))
        row = found.first()
        return row[0] if row else None

    async def _require_group(self, system: str, app: str, name: str) -> GroupRow:
        row = await self._group_row(system, app, name)
        if row is None:
            raise NotFound(f"group {name!r} does not exist in {system}/{app}")
        return row


def _groups(system: str, app: str) -> Select[GroupRow, str]:
    return (
        select(GroupRow, ClusterRow.name)
        .join(ApplicationRow, GroupRow.application_id == ApplicationRow.id)
        .join(SystemRow, ApplicationRow.system_id == SystemRow.id)
        .join(ClusterRow, GroupRow.cluster_id == ClusterRow.id)
        .where(SystemRow.name == system, ApplicationRow.name == app)
    )


def _system(row: SystemRow) -> System:
    return System(row.name, row.description, Quota(row.quota_cpu_millis, row.quota_memory_mib))


def _application(system: str, row: ApplicationRow) -> Application:
    location = parse_location(row.location, "location") if row.location else None
    return Application(system, row.name, row.repository, row.business_id, tuple(row.owners), location)


def _group(system: str, app: str, row: GroupRow, cluster: str, parts: dict[int, list[GroupCluster]]) -> Group:
    return Group(
        system=system,
        app=app,
        name=row.name,
        environment=row.environment,  # type: ignore[arg-type]
        cluster=cluster,
        current_version=row.current_version,
        latest_version=row.latest_version,
        clusters=tuple(parts.get(row.id, ())),
    )


def _version(system: str, app: str, group: str, row: VersionRow) -> Version:
    return Version(system, app, group, row.number, load_spec(row.spec), row.created_by, row.created_at, row.reason)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
