"""Every group of a system the caller can see, for the system page: a system owner sees the whole
business at a glance.

Contract: a system the caller cannot see is :class:`Hidden` (404), like every read; a member of only
some applications gets those applications' groups. Groups come by application, then by name.
"""

from __future__ import annotations

from dockyard.domain.access import Principal, can_see
from dockyard.domain.errors import Hidden, NotFound
from dockyard.domain.model import AppPath, GroupPath
from dockyard.services.platform import Platform


async def visible_groups(platform: Platform, by: Principal, system: str) -> list[GroupPath]:
    if not can_see(by, system):
        raise Hidden(f"system {system!r} does not exist")
    async with platform.db.unit_of_work() as uow:
        if await uow.systems.get(system) is None:
            raise NotFound(f"system {system!r} does not exist")
        apps = sorted(a.name for a in await uow.applications.of_system(system) if can_see(by, system, a.name))
        found: list[GroupPath] = []
        for app in apps:
            groups = await uow.groups.of_app(AppPath(system, app))
            found += sorted((GroupPath(system, app, g.name) for g in groups), key=lambda p: p.group)
    return found
