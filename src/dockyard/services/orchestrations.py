"""Orchestration templates: an application and several groups made at once, all or nothing.

Contract of :func:`orchestrate`: the caller needs ``manage`` on the system (the application is made
when it does not exist) or on the application; the orchestration's parameters and each group's are
checked first (422 naming ``parameters.NAME`` or ``groups[i].…``). Then one unit of work makes the
application (if new), every group, each group's version 1 rendered from its component template
(recording it) and a pending deploy of it: if anything fails — a group name taken (409), a cluster
that does not exist, a production location not granted — nothing of it exists afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dockyard.domain import model
from dockyard.domain.access import Principal, authorize
from dockyard.domain.errors import Conflict, InvalidInput, NotFound
from dockyard.domain.failures import DatabaseConflict
from dockyard.domain.model import AppPath, GroupPath, Operation
from dockyard.domain.operations import DEFAULT_DEADLINE, DeployParams
from dockyard.domain.orchestrations import BUILTIN_ORCHESTRATIONS, Orchestration, plan
from dockyard.services import flavors, templates
from dockyard.services import where as locating
from dockyard.services.applications import record
from dockyard.services.deploys import pending
from dockyard.services.platform import Platform

_BUILTIN = {o.name: o for o in BUILTIN_ORCHESTRATIONS}


def list_orchestrations(by: Principal) -> list[Orchestration]:
    return list(BUILTIN_ORCHESTRATIONS)


def get_orchestration(by: Principal, name: str) -> Orchestration:
    if name not in _BUILTIN:
        raise NotFound(f"orchestration template {name!r} does not exist; known: {', '.join(_BUILTIN)}")
    return _BUILTIN[name]


@dataclass(frozen=True)
class Made:
    application: AppPath
    created_application: bool
    groups: list[tuple[GroupPath, int, Operation]]  # each group, its version, its pending deploy


async def orchestrate(
    platform: Platform, by: Principal, *, app: AppPath, name: str, repository: str, parameters: Any
) -> Made:
    """Make ``app`` (when new) and the orchestration's groups, deploying each (see the module docstring)."""
    authorize(by, "manage", app.system)
    orchestration = get_orchestration(by, name)
    try:
        async with platform.db.unit_of_work() as uow:
            catalog = await flavors.catalog(uow)
            planned = plan(orchestration, parameters, flavors=catalog)
            application = await uow.applications.get(app)
            created = application is None
            if application is None:
                application = model.new_application(app.system, app.app, repository=repository)
                await uow.applications.add(application)
                await uow.operations.add(record("create-application", by, app))
            made: list[tuple[GroupPath, int, Operation]] = []
            for i, g in enumerate(planned):
                group = model.new_group(app.system, app.app, g.name, environment=g.environment, cluster=g.cluster)
                try:
                    spec = await templates.spec_for_group(
                        uow,
                        group_system=app.system,
                        system="",
                        name=g.template,
                        version=g.template_version,
                        parameters=g.parameters,
                        latest=None,
                    )
                except InvalidInput as e:
                    raise InvalidInput(f"groups[{i}].{e.field}", f"group {g.name}: {e}") from e
                await uow.groups.add(group)
                version = await uow.versions.add(group.path, spec, by=by.name, reason=f"orchestration {name}")
                found = await uow.groups.get(group.path)
                assert found is not None
                await locating.clusters_of(uow, found, application, spec)
                operation = pending("deploy", by, group.path, DeployParams(version.number, DEFAULT_DEADLINE))
                await uow.operations.add(operation)
                made.append((group.path, version.number, operation))
    except DatabaseConflict as e:
        raise Conflict(f"{app} changed meanwhile (a group made by someone else?); nothing was made") from e
    platform.operations_added.set()
    return Made(app, created, made)
