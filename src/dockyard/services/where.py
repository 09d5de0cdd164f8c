"""Which clusters a group's version runs on: the registered clusters and grants read, the choice made
by :func:`dockyard.domain.where.where` (pure; its docstring has the rules).

Contract of :func:`clusters_of`: reads the database only (registered clusters, and the system's
approved grants when a production group names a location), so request paths may call it.
"""

from __future__ import annotations

from dockyard.domain.location import Location
from dockyard.domain.model import Application, Group
from dockyard.domain.versions import VersionSpec
from dockyard.domain.where import Where, needs_grants, where
from dockyard.services.ports import UnitOfWork


async def clusters_of(uow: UnitOfWork, group: Group, app: Application, spec: VersionSpec) -> Where:
    registered = {c.name: c for c in await uow.clusters.all()}
    grants: list[Location] = await uow.locations.approved(group.system) if needs_grants(group, app, spec) else []
    return where(group, app, spec, registered, grants)
