"""Use cases of the application model: systems, applications, groups and versions.

Every call takes the caller (``by``) and authorizes first (see :mod:`dockyard.domain.access`: an
invisible system is :class:`NotFound`, a missing right :class:`Forbidden`). Each mutating call then
checks its input (nothing is written for bad input) and writes the change and its operation record in
one unit of work, so history never misses a change nor shows one that did not happen.

Deleting refuses (:class:`Conflict`) while something lives underneath: a system with applications,
an application with groups. Groups are deleted by an operation (see :mod:`dockyard.services.deploys`),
because their objects in the cluster must go first.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any, TypeVar

from dockyard.domain import model
from dockyard.domain.access import Principal, authorize, can_see, require_admin
from dockyard.domain.errors import Conflict, Hidden, InvalidInput, NotFound
from dockyard.domain.location import parse_location
from dockyard.domain.model import Application, AppPath, Group, GroupPath, Operation, System, Version
from dockyard.domain.operations import CreateGroupParams, CreateVersionParams, NoParams, OperationParams
from dockyard.domain.targets import NewSpec
from dockyard.domain.versions import MAX_VERSION, diff
from dockyard.services import targets
from dockyard.services.platform import Platform
from dockyard.services.ports import UnitOfWork

T = TypeVar("T")


def record(
    action: str, by: Principal, scope: str | AppPath | GroupPath, params: OperationParams | None = None
) -> Operation:
    """A finished operation on a system (its name), an application or a group: the history entry of an
    immediate change."""
    now = dt.datetime.now(dt.UTC)
    system, app, group = _scope(scope)
    return Operation(
        id=str(uuid.uuid4()),
        action=action,
        actor=by.name,
        system=system,
        app=app,
        group=group,
        params=NoParams() if params is None else params,
        status="succeeded",
        started_at=now,
        finished_at=now,
    )


# systems -----------------------------------------------------------------------------------------
async def create_system(
    platform: Platform, by: Principal, *, name: str, description: str = "", cpu_millis: int = 0, memory_mib: int = 0
) -> System:
    require_admin(by, "creating systems")
    system = model.new_system(name, description=description, cpu_millis=cpu_millis, memory_mib=memory_mib)
    async with platform.db.unit_of_work() as uow:
        await uow.systems.add(system)
        await uow.operations.add(record("create-system", by, name))
    return system


async def list_systems(platform: Platform, by: Principal) -> list[System]:
    async with platform.db.unit_of_work() as uow:
        return [s for s in await uow.systems.all() if can_see(by, s.name)]


async def get_system(platform: Platform, by: Principal, name: str) -> System:
    authorize(by, "read", name)
    async with platform.db.unit_of_work() as uow:
        return _found(await uow.systems.get(name), f"system {name!r} does not exist")


async def delete_system(platform: Platform, by: Principal, name: str) -> None:
    authorize(by, "manage", name)
    require_admin(by, "deleting systems")
    async with platform.db.unit_of_work() as uow:
        _found(await uow.systems.get(name), f"system {name!r} does not exist")
        if await uow.applications.of_system(name):
            raise Conflict(f"system {name!r} still has applications; delete them first")
        await uow.systems.delete(name)
        await uow.operations.add(record("delete-system", by, name))


# applications ------------------------------------------------------------------------------------
async def create_application(
    platform: Platform,
    by: Principal,
    *,
    system: str,
    name: str,
    repository: str,
    business_id: str = "",
    owners: tuple[str, ...] = (),
    location: Mapping[str, Any] | None = None,
) -> Application:
    authorize(by, "manage", system)
    where = parse_location(location, "location")
    app = model.new_application(
        system, name, repository=repository, business_id=business_id, owners=owners, location=where
    )
    async with platform.db.unit_of_work() as uow:
        await uow.applications.add(app)
        await uow.operations.add(record("create-application", by, app.path))
    return app


async def set_location(
    platform: Platform, by: Principal, path: AppPath, location: Mapping[str, Any] | None
) -> Application:
    """Set (or with None clear) the application's default location; its groups use it from their next
    deploy on (a production group's from then needs a grant covering it)."""
    authorize(by, "manage", path.system, path.app)
    where = parse_location(location, "location")
    async with platform.db.unit_of_work() as uow:
        await found_application(uow, path)
        await uow.applications.set_location(path, where)
        await uow.operations.add(record("set-location", by, path))
        return await found_application(uow, path)


async def list_applications(platform: Platform, by: Principal, system: str) -> list[Application]:
    authorize(by, "read", system)
    async with platform.db.unit_of_work() as uow:
        _found(await uow.systems.get(system), f"system {system!r} does not exist")
        return [a for a in await uow.applications.of_system(system) if can_see(by, system, a.name)]


async def get_application(platform: Platform, by: Principal, path: AppPath) -> Application:
    authorize(by, "read", path.system, path.app)
    async with platform.db.unit_of_work() as uow:
        return await found_application(uow, path)


async def delete_application(platform: Platform, by: Principal, path: AppPath) -> None:
    authorize(by, "manage", path.system, path.app)
    async with platform.db.unit_of_work() as uow:
        await found_application(uow, path)
        if await uow.groups.of_app(path):
            raise Conflict(f"application {path} still has groups; delete them first")
        if any(not b.ended for b in await uow.builds.of_app(path)):
            raise Conflict(f"application {path} has builds under way; cancel them first")
        await uow.builds.forget_app(path)  # its builds' records and logs (the registry keeps images)
        await uow.applications.delete(path)
        await uow.operations.add(record("delete-application", by, path))


# groups ------------------------------------------------------------------------------------------
async def create_group(
    platform: Platform, by: Principal, *, app: AppPath, name: str, environment: str, cluster: str
) -> Group:
    authorize(by, "manage", app.system, app.app)
    group = model.new_group(app.system, app.app, name, environment=environment, cluster=cluster)
    async with platform.db.unit_of_work() as uow:
        await uow.groups.add(group)
        await uow.operations.add(record("create-group", by, group.path, CreateGroupParams(environment, cluster)))
    return group


async def list_groups(platform: Platform, by: Principal, app: AppPath) -> list[Group]:
    authorize(by, "read", app.system, app.app)
    async with platform.db.unit_of_work() as uow:
        await found_application(uow, app)
        return await uow.groups.of_app(app)


async def get_group(platform: Platform, by: Principal, path: GroupPath) -> Group:
    authorize(by, "read", path.system, path.app)
    async with platform.db.unit_of_work() as uow:
        return await found_group(uow, path)


# versions ----------------------------------------------------------------------------------------
async def create_version(
    platform: Platform,
    by: Principal,
    *,
    group: GroupPath,
    target: NewSpec,
    reason: str = "",
) -> Version:
    """Store a new version (numbered latest + 1) from a whole spec, or from changes to the group's
    latest version (see :func:`dockyard.services.targets.resolve`); does not deploy it."""
    authorize(by, "deploy", group.system, group.app)
    model.check_reason(reason)
    async with platform.db.unit_of_work() as uow:
        resolved = await targets.resolve(uow, await found_group(uow, group), target, seal=platform.seal_value)
        version = await uow.versions.add(group, resolved.spec, by=by.name, reason=reason)
        await uow.operations.add(record("create-version", by, group, CreateVersionParams(version.number)))
    return version


async def list_versions(platform: Platform, by: Principal, group: GroupPath) -> list[Version]:
    authorize(by, "read", group.system, group.app)
    async with platform.db.unit_of_work() as uow:
        return await uow.versions.of_group(group)


async def get_version(platform: Platform, by: Principal, group: GroupPath, number: int) -> Version:
    authorize(by, "read", group.system, group.app)
    if not 1 <= number <= MAX_VERSION:
        raise NotFound(f"version {number} does not exist")
    async with platform.db.unit_of_work() as uow:
        return _found(await uow.versions.get(group, number), f"version {number} does not exist")


async def diff_versions(
    platform: Platform, by: Principal, group: GroupPath, old: int, new: int
) -> dict[str, tuple[Any, Any]]:
    a = await get_version(platform, by, group, old)
    b = await get_version(platform, by, group, new)
    return diff(a.spec, b.spec)


# history -----------------------------------------------------------------------------------------
async def history(
    platform: Platform, by: Principal, scope: str | AppPath | GroupPath, *, limit: int = 100
) -> list[Operation]:
    """Operations newest first, of a system (its name), or of one application or group in it (those of
    applications the caller cannot see left out)."""
    system, app, _ = _scope(scope)
    authorize(by, "read", system, app or None)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 1000:
        raise InvalidInput("limit", "limit must be an integer from 1 to 1000")
    async with platform.db.unit_of_work() as uow:
        if isinstance(scope, GroupPath):
            await found_group(uow, scope)
        elif isinstance(scope, AppPath):
            await found_application(uow, scope)
        else:
            _found(await uow.systems.get(system), f"system {system!r} does not exist")
        found = await uow.operations.history(scope, limit=limit)
    return [op for op in found if can_see(by, system, op.app or None)]


async def get_operation(platform: Platform, by: Principal, operation_id: str) -> Operation:
    async with platform.db.unit_of_work() as uow:
        op = await uow.operations.get(operation_id)
    if op is None:
        raise NotFound(f"operation {operation_id!r} does not exist")
    if not can_see(by, op.system, op.app or None):
        raise Hidden(f"operation {operation_id!r} does not exist")
    return op


async def found_application(uow: UnitOfWork, path: AppPath) -> Application:
    """The application at ``path``; :class:`NotFound` naming it otherwise."""
    return _found(await uow.applications.get(path), f"application {path.app!r} does not exist in {path.system!r}")


async def found_group(uow: UnitOfWork, path: GroupPath) -> Group:
    """The group at ``path``; :class:`NotFound` naming it otherwise."""
    return _found(await uow.groups.get(path), f"group {path.group!r} does not exist in {path.app_path}")


def _scope(scope: str | AppPath | GroupPath) -> tuple[str, str, str]:
    """A system's name, an application's or a group's path as (system, app, group), "" for what is not there."""
    if isinstance(scope, GroupPath):
        return scope.system, scope.app, scope.group
    if isinstance(scope, AppPath):
        return scope.system, scope.app, ""
    return scope, "", ""


def _found(value: T | None, message: str) -> T:
    if value is None:
        raise NotFound(message)
    return value
