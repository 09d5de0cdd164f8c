"""Row lookups the application model's repositories share: a system, an application or a group by
its names, and the mappings of their rows to domain records. ``require_*`` raise :class:`NotFound`
naming what is missing; the others return ``None``."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.adapters.db.tables import ApplicationRow, ClusterRow, GroupClusterRow, GroupRow, SystemRow
from dockyard.domain.errors import NotFound
from dockyard.domain.location import parse_location
from dockyard.domain.model import Application, AppPath, Group, GroupCluster, GroupPath, Quota, System


async def system_row(session: AsyncSession, name: str) -> SystemRow | None:
    row: SystemRow | None = await session.scalar(select(SystemRow).where(SystemRow.name == name))
    return row


async def require_system(session: AsyncSession, name: str) -> SystemRow:
    row = await system_row(session, name)
    if row is None:
        raise NotFound(f"system {name!r} does not exist")
    return row


async def app_row(session: AsyncSession, system_id: int, name: str) -> ApplicationRow | None:
    row: ApplicationRow | None = await session.scalar(
        select(ApplicationRow).where(ApplicationRow.system_id == system_id, ApplicationRow.name == name)
    )
    return row


async def cluster_row(session: AsyncSession, name: str) -> ClusterRow:
    row: ClusterRow | None = await session.scalar(select(ClusterRow).where(ClusterRow.name == name))
    if row is None:
        raise NotFound(f"cluster {name!r} is not registered")
    return row


def groups_of(app: AppPath) -> Select[GroupRow, str]:
    """The application's group rows, each with its home cluster's name."""
    return (
        select(GroupRow, ClusterRow.name)
        .join(ApplicationRow, GroupRow.application_id == ApplicationRow.id)
        .join(SystemRow, ApplicationRow.system_id == SystemRow.id)
        .join(ClusterRow, GroupRow.cluster_id == ClusterRow.id)
        .where(SystemRow.name == app.system, ApplicationRow.name == app.app)
    )


async def group_row(session: AsyncSession, path: GroupPath) -> GroupRow | None:
    found = await session.execute(groups_of(path.app_path).where(GroupRow.name == path.group))
    row = found.first()
    return row[0] if row else None


async def require_group(session: AsyncSession, path: GroupPath) -> GroupRow:
    row = await group_row(session, path)
    if row is None:
        raise NotFound(f"group {path.group!r} does not exist in {path.app_path}")
    return row


async def group_parts(session: AsyncSession, group_ids: list[int]) -> dict[int, list[GroupCluster]]:
    """Where each group runs: its clusters by name, with instances and version."""
    if not group_ids:
        return {}
    rows = await session.execute(
        select(GroupClusterRow, ClusterRow.name)
        .join(ClusterRow, GroupClusterRow.cluster_id == ClusterRow.id)
        .where(GroupClusterRow.group_id.in_(group_ids))
        .order_by(ClusterRow.name)
    )
    out: dict[int, list[GroupCluster]] = {}
    for part, name in rows.all():
        out.setdefault(part.group_id, []).append(GroupCluster(name, part.instances, part.version))
    return out


def system(row: SystemRow) -> System:
    return System(row.name, row.description, Quota(row.quota_cpu_millis, row.quota_memory_mib))


def application(system: str, row: ApplicationRow) -> Application:
    location = parse_location(row.location, "location") if row.location else None
    return Application(system, row.name, row.repository, row.business_id, tuple(row.owners), location)


def group(app: AppPath, row: GroupRow, cluster: str, parts: dict[int, list[GroupCluster]]) -> Group:
    return Group(
        system=app.system,
        app=app.app,
        name=row.name,
        environment=row.environment,  # type: ignore[arg-type]
        cluster=cluster,
        current_version=row.current_version,
        latest_version=row.latest_version,
        clusters=tuple(parts.get(row.id, ())),
        edge_port=row.edge_port,
    )
