"""What runs now: a group's instances and state, from the watch caches and the database.

Reads only: nothing here calls a cluster's API (the caches are fed by watches, see
:class:`~dockyard.services.ports.LiveView`). A cluster whose watch is disconnected answers with its last known
instances and ``stale=True``. A group on several clusters is read on each (its instances carry their
cluster) and its state combines theirs: a cluster that is away makes it ``degraded`` (that cluster's
own state says ``unreachable``), without hiding the others.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

from dockyard.domain.access import Principal, authorize
from dockyard.domain.autoscale import effective_instances
from dockyard.domain.drift import workload_drift
from dockyard.domain.errors import NotFound
from dockyard.domain.live import PodRecord
from dockyard.domain.model import Group, GroupPath
from dockyard.domain.status import (
    ClusterStateName,
    InstanceView,
    State,
    can_tell_drift,
    cluster_state,
    combined_state,
    parts,
    settled,
)
from dockyard.services import placement
from dockyard.services.platform import Platform


@dataclass(frozen=True)
class GroupStatus:
    state: State
    ready: int
    instances: int
    wanted: int
    stale: bool
    drift: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    operation: str | None = None
    clusters: list[ClusterState] = field(default_factory=list)


@dataclass(frozen=True)
class ClusterState:
    """The group on one of its clusters."""

    cluster: str
    state: ClusterStateName  # ``unreachable`` while the cluster's watch is disconnected
    version: int | None
    wanted: int
    ready: int
    instances: int
    connected: bool


async def instances(platform: Platform, by: Principal, group: GroupPath) -> tuple[list[tuple[str, PodRecord]], bool]:
    """The group's instances as ``(cluster, instance)``, by cluster then name, and whether any cluster's
    are stale."""
    found = await _group(platform, by, group)
    names = [p.cluster for p in parts(found, 0)]
    stale = any(not platform.live.connection(n).connected for n in names)
    return [(n, p) for n in names for p in platform.live.pods(n, group)], stale


async def group_status(platform: Platform, by: Principal, group: GroupPath) -> tuple[Group, GroupStatus]:
    authorize(by, "read", group.system, group.app)
    async with platform.db.unit_of_work() as uow:
        # The operation first: one that ends after this read has already moved the group we read next.
        active = await uow.operations.active(group)
        last = next(iter(await uow.operations.history(group, limit=1)), None)
        found = await uow.groups.get(group)
        if found is None:
            raise NotFound(f"group {group.group!r} does not exist in {group.app_path}")
        version = await uow.versions.get(group, found.current_version) if found.current_version else None
        if version is not None and version.spec.autoscale is not None:
            recorded = sum(p.instances for p in found.clusters)
            sized = effective_instances(version.spec.instances, version.spec.autoscale, recorded or None)
            version = replace(version, spec=replace(version.spec, instances=sized))
        where = parts(found, version.spec.instances if version else 0)
        refs = {p.cluster: await placement.group_ref(uow, group, p.cluster) for p in where}
    wanted = version.spec.instances if version else 0
    caught_up = settled(last.finished_at if last else None, time.time())
    several = len(found.clusters) > 1
    clusters: list[ClusterState] = []
    differences: dict[str, tuple[Any, Any]] = {}
    pods: list[PodRecord] = []
    for part in where:
        ref = refs[part.cluster]
        connected = platform.live.connection(part.cluster).connected
        here = platform.live.pods(part.cluster, group)
        pods += here
        drift: dict[str, tuple[Any, Any]] = {}
        if version is not None and can_tell_drift(
            running=version.number, here=part.version, busy=active is not None, connected=connected, settled=caught_up
        ):
            spec = version.spec if part.instances == wanted else version.spec.with_changes(instances=part.instances)
            deployment = platform.live.deployment(part.cluster, ref.namespace, ref.workload)
            drift = workload_drift(ref, version.number, spec, deployment.spec if deployment else None)
            differences.update({f"{part.cluster}: {k}" if several else k: v for k, v in drift.items()})
        state = cluster_state(
            current_version=found.current_version,
            wanted=part.instances,
            instances=[InstanceView(p.version, p.ready, p.deleting) for p in here],
            busy=active is not None,
            drifted=bool(drift),
            connected=connected,
            several=several,
        )
        live_here = [p for p in here if not p.deleting]
        clusters.append(
            ClusterState(
                cluster=part.cluster,
                state=state,
                version=part.version,
                wanted=part.instances,
                ready=sum(1 for p in live_here if p.ready),
                instances=len(live_here),
                connected=connected,
            )
        )
    live = [p for p in pods if not p.deleting]
    status = GroupStatus(
        state=combined_state([c.state for c in clusters]),
        ready=sum(1 for p in live if p.ready),
        instances=len(live),
        wanted=wanted,
        stale=not all(c.connected for c in clusters),
        drift=differences,
        operation=active.id if active else None,
        clusters=clusters,
    )
    return found, status


async def _group(platform: Platform, by: Principal, group: GroupPath) -> Group:
    """The group as recorded, from the process's cache while the model generation is unchanged."""
    authorize(by, "read", group.system, group.app)
    generation = await platform.db.generation("model")
    found = platform.groups.get(group, generation=generation)
    if found is None:
        async with platform.db.unit_of_work() as uow:
            found = await uow.groups.get(group)
        if found is None:
            raise NotFound(f"group {group.group!r} does not exist in {group.app_path}")
        platform.groups.put(group, found, generation=generation)
    return found
