"""What runs now: a group's instances and state, from the watch caches and the database.

Reads only: nothing here calls a cluster's API (the caches are fed by watches, see
:mod:`dockyard.services.live`). A cluster whose watch is disconnected answers with its last known
instances and ``stale=True``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from dockyard.adapters.kube.watch import PodRecord
from dockyard.domain.access import Principal, authorize
from dockyard.domain.drift import workload_drift
from dockyard.domain.errors import NotFound
from dockyard.domain.model import Group
from dockyard.domain.status import InstanceView, State, group_state
from dockyard.services import placement
from dockyard.services.platform import Platform

SETTLE = 5.0  # seconds after an operation's end during which the watch caches may lag behind it


@dataclass(frozen=True)
class GroupStatus:
    state: State
    ready: int
    instances: int
    wanted: int
    stale: bool
    drift: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    operation: str | None = None


async def instances(
    platform: Platform, by: Principal, system: str, app: str, group: str
) -> tuple[list[PodRecord], bool]:
    """The group's instances by name, and whether they are stale."""
    found = await _group(platform, by, system, app, group)
    stale = not platform.live.connection(found.cluster).connected
    return platform.live.pods(found.cluster, system, app, group), stale


async def group_status(
    platform: Platform, by: Principal, system: str, app: str, group: str
) -> tuple[Group, GroupStatus]:
    authorize(by, "read", system, app)
    async with platform.db.unit_of_work() as uow:
        # The operation first: one that ends after this read has already moved the group we read next.
        active = await uow.operations.active(system, app, group)
        last = next(iter(await uow.operations.history(system, app, group, limit=1)), None)
        found = await uow.model.group(system, app, group)
        if found is None:
            raise NotFound(f"group {group!r} does not exist in {system}/{app}")
        version = await uow.model.version(system, app, group, found.current_version) if found.current_version else None
        ref = await placement.group_ref(uow, system, app, group, found.cluster)
    connected = platform.live.connection(found.cluster).connected
    pods = platform.live.pods(found.cluster, system, app, group)
    wanted = version.spec.instances if version else 0
    differences: dict[str, tuple[Any, Any]] = {}
    settled = last is None or last.finished_at is None or time.time() - last.finished_at.timestamp() > SETTLE
    # A stale cache cannot tell drift, nor one that may not have seen the last operation's writes yet.
    if version is not None and active is None and connected and settled:
        deployment = platform.live.deployment(found.cluster, ref.namespace, ref.workload)
        differences = workload_drift(ref, version.number, version.spec, deployment.spec if deployment else None)
    state = group_state(
        current_version=found.current_version,
        wanted=wanted,
        instances=[InstanceView(p.version, p.ready, p.deleting) for p in pods],
        busy=active is not None,
        drifted=bool(differences),
        connected=connected,
    )
    live = [p for p in pods if not p.deleting]
    status = GroupStatus(
        state=state,
        ready=sum(1 for p in live if p.ready),
        instances=len(live),
        wanted=wanted,
        stale=not connected,
        drift=differences,
        operation=active.id if active else None,
    )
    return found, status


async def _group(platform: Platform, by: Principal, system: str, app: str, group: str) -> Group:
    authorize(by, "read", system, app)
    async with platform.db.unit_of_work() as uow:
        found = await uow.model.group(system, app, group)
    if found is None:
        raise NotFound(f"group {group!r} does not exist in {system}/{app}")
    return found
