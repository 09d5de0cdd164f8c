"""Use cases of the application model: create systems, applications, groups and versions.

Each mutating call checks its input first (nothing is written for bad input), then writes the change
and its operation record in one unit of work, so history never misses a change nor shows one that
did not happen. Reads return domain records.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from dockyard.domain import model
from dockyard.domain.model import Application, Group, Operation, System, Version
from dockyard.domain.versions import parse_spec
from dockyard.services.platform import Platform


def _operation(action: str, actor: str, system: str, app: str = "", group: str = "", **params: Any) -> Operation:
    now = dt.datetime.now(dt.UTC)
    return Operation(
        id=str(uuid.uuid4()),
        action=action,
        actor=actor,
        system=system,
        app=app,
        group=group,
        params=params,
        status="succeeded",
        started_at=now,
        finished_at=now,
    )


async def create_system(
    platform: Platform, *, actor: str, name: str, description: str = "", cpu_millis: int = 0, memory_mib: int = 0
) -> System:
    system = model.new_system(name, description=description, cpu_millis=cpu_millis, memory_mib=memory_mib)
    async with platform.db.unit_of_work() as uow:
        await uow.model.add_system(system)
        await uow.operations.add(_operation("create-system", actor, name))
    return system


async def create_application(
    platform: Platform,
    *,
    actor: str,
    system: str,
    name: str,
    repository: str,
    business_id: str = "",
    owners: tuple[str, ...] = (),
) -> Application:
    app = model.new_application(system, name, repository=repository, business_id=business_id, owners=owners)
    async with platform.db.unit_of_work() as uow:
        await uow.model.add_application(app)
        await uow.operations.add(_operation("create-application", actor, system, name))
    return app


async def create_group(
    platform: Platform, *, actor: str, system: str, app: str, name: str, environment: str, cluster: str
) -> Group:
    group = model.new_group(system, app, name, environment=environment, cluster=cluster)
    async with platform.db.unit_of_work() as uow:
        await uow.model.add_group(group)
        await uow.operations.add(
            _operation("create-group", actor, system, app, name, environment=environment, cluster=cluster)
        )
    return group


async def create_version(
    platform: Platform, *, actor: str, system: str, app: str, group: str, spec: Mapping[str, Any], reason: str = ""
) -> Version:
    """Store a new version of the group (numbered latest + 1); does not deploy it."""
    checked = parse_spec(spec)
    model.check_actor(actor)
    model.check_reason(reason)
    async with platform.db.unit_of_work() as uow:
        version = await uow.model.add_version(system, app, group, checked, by=actor, reason=reason)
        await uow.operations.add(_operation("create-version", actor, system, app, group, version=version.number))
    return version


async def history(platform: Platform, system: str, app: str = "", group: str = "") -> list[Operation]:
    async with platform.db.unit_of_work() as uow:
        return await uow.operations.history(system, app, group)
