"""Members: role bindings in a system or one of its applications, managed by their owners.

Contract: listing needs read access to the system and shows only bindings whose scope the caller
can see; granting or removing a role needs ``manage`` on its scope (see
:func:`dockyard.domain.access.may_grant`). Bad input changes nothing.
"""

from __future__ import annotations

from dockyard.domain.access import Binding, Principal, Role, authorize, can_see, may_grant
from dockyard.services.platform import Platform


async def list_members(platform: Platform, by: Principal, system: str) -> list[Binding]:
    authorize(by, "read", system)
    async with platform.db.unit_of_work() as uow:
        bindings = await uow.members.of_system(system)
    # System-wide bindings show to system-wide members; an application's to whoever sees it.
    system_wide = by.admin or system in by.roles
    return [b for b in bindings if (can_see(by, system, b.app) if b.app else system_wide)]


async def grant(platform: Platform, by: Principal, *, system: str, app: str | None, user: str, role: Role) -> bool:
    """Give ``user`` ``role`` in the scope (replacing the role they held there); True if new."""
    may_grant(by, system, app, role)
    async with platform.db.unit_of_work() as uow:
        return await uow.members.bind(Binding(user, system, app, role, granted_by=by.name))


async def revoke(platform: Platform, by: Principal, *, system: str, app: str | None, user: str) -> None:
    """Remove ``user``'s role in the scope; :class:`NotFound` if they hold none there."""
    authorize(by, "manage", system, app)
    async with platform.db.unit_of_work() as uow:
        await uow.members.unbind(user, system, app)
