"""The flavor catalog: every signed-in user reads it, platform admins change it.

Contract: an unknown flavor is :class:`NotFound`; a bad field :class:`InvalidInput` naming it; adding
a name taken is :class:`Conflict`; deleting a flavor, or an update that takes something away from it
(:func:`dockyard.domain.flavors.shrinkage`), while groups use it (their current or latest version has
it) is :class:`InUse` (409) naming the groups, and changes nothing. A flavor added is usable by the
next deploy; versions already made keep the size they recorded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dockyard.domain.access import Principal, require_admin
from dockyard.domain.errors import Conflict, InUse, InvalidInput, NotFound
from dockyard.domain.failures import DatabaseConflict
from dockyard.domain.flavors import Flavor, parse_flavor, shrinkage
from dockyard.services.platform import Platform
from dockyard.services.ports import UnitOfWork


async def catalog(uow: UnitOfWork) -> dict[str, Flavor]:
    """The catalog by name, smallest first: what new versions look their flavor up in."""
    return {f.name: f for f in await uow.flavors.all()}


async def list_flavors(platform: Platform, by: Principal) -> list[Flavor]:
    async with platform.db.unit_of_work() as uow:
        return await uow.flavors.all()


async def get_flavor(platform: Platform, by: Principal, name: str) -> Flavor:
    async with platform.db.unit_of_work() as uow:
        found = await uow.flavors.get(name)
    if found is None:
        raise NotFound(f"flavor {name!r} does not exist")
    return found


async def create_flavor(platform: Platform, by: Principal, raw: Mapping[str, Any]) -> Flavor:
    require_admin(by, "adding a flavor")
    made = parse_flavor(raw)
    try:
        async with platform.db.unit_of_work() as uow:
            if await uow.flavors.get(made.name) is not None:
                raise Conflict(f"flavor {made.name!r} exists; change it with an update")
            await uow.flavors.add(made, by=by.name)
    except DatabaseConflict as e:
        raise Conflict(f"flavor {made.name!r} exists; change it with an update") from e
    return made


async def update_flavor(platform: Platform, by: Principal, name: str, raw: Mapping[str, Any]) -> Flavor:
    """Replace flavor ``name`` with ``raw`` (whose ``name``, when given, must be ``name``)."""
    require_admin(by, "changing a flavor")
    if raw.get("name", name) != name:
        raise InvalidInput("name", f"the body's name {raw.get('name')!r} differs from the path's {name!r}")
    made = parse_flavor({**raw, "name": name})
    async with platform.db.unit_of_work() as uow:
        old = await uow.flavors.get(name)
        if old is None:
            raise NotFound(f"flavor {name!r} does not exist")
        lost = shrinkage(old, made)
        if lost:
            users = await uow.flavors.users(name)
            if users:
                raise InUse(
                    f"flavor {name!r} is in use by {', '.join(users)}: it cannot lose {', '.join(lost)} "
                    "(grow it, or add a new flavor and move the groups to it)",
                    users,
                )
        await uow.flavors.update(made, by=by.name)
    return made


async def delete_flavor(platform: Platform, by: Principal, name: str) -> None:
    require_admin(by, "deleting a flavor")
    async with platform.db.unit_of_work() as uow:
        if await uow.flavors.get(name) is None:
            raise NotFound(f"flavor {name!r} does not exist")
        users = await uow.flavors.users(name)
        if users:
            raise InUse(f"flavor {name!r} is in use by {', '.join(users)}: move them to another flavor first", users)
        await uow.flavors.delete(name)
