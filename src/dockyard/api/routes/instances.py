"""/api/v1/systems/{s}/apps/{a}/groups/{g}/instances/{instance}: one instance's actions and views.

Contracts (see services/instances.py): restart needs ``deploy`` and is audited like every POST; logs
and events need ``read``. An instance that is not one of the group's is 404, like a group the caller
cannot see. Restart answers 200 once the pod's deletion was accepted: the group's Deployment brings a
new instance (watch ``GET …/instances`` or the group's event stream).
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Query

from dockyard.api.deps import Caller, PlatformDep
from dockyard.api.errors import ERRORS
from dockyard.api.schemas.groups import InstanceOut
from dockyard.api.schemas.instances import InstanceEventOut, InstanceEventsOut, InstanceLogOut, RestartOut
from dockyard.domain.instances import DEFAULT_TAIL
from dockyard.domain.model import GroupPath
from dockyard.services import instances as svc

router = APIRouter(prefix="/api/v1/systems/{system}/apps/{app}/groups/{group}/instances", responses=ERRORS)


@router.post("/{instance}/restart", tags=["instances"])
async def restart_instance(
    system: str, app: str, group: str, instance: str, platform: PlatformDep, caller: Caller
) -> RestartOut:
    """Restart an instance: delete its pod; the group brings a new one in its place."""
    cluster, pod = await svc.restart(platform, caller, GroupPath(system, app, group), instance)
    return RestartOut(
        instance=InstanceOut.of(pod, time.time(), cluster=cluster),
        message=f"instance {instance} deleted; the group starts a new one",
    )


@router.get("/{instance}/logs", tags=["instances"])
async def instance_logs(
    system: str,
    app: str,
    group: str,
    instance: str,
    platform: PlatformDep,
    caller: Caller,
    tail: int = Query(DEFAULT_TAIL, description="how many of the last lines (1–5000)"),
    previous: bool = Query(False, description="the log of the container's previous run (after a restart)"),
) -> InstanceLogOut:
    """The last lines of the instance's log, read from its cluster (``pods/log``)."""
    cluster, pod, lines = await svc.log_tail(
        platform, caller, GroupPath(system, app, group), instance, tail=tail, previous=previous
    )
    return InstanceLogOut(instance=pod.name, cluster=cluster, previous=previous, lines=lines)


@router.get("/{instance}/events", tags=["instances"])
async def instance_events(
    system: str, app: str, group: str, instance: str, platform: PlatformDep, caller: Caller
) -> InstanceEventsOut:
    """What happened to the instance — scheduling, image pulls, probes, kills — oldest first."""
    cluster, pod, found = await svc.events(platform, caller, GroupPath(system, app, group), instance)
    return InstanceEventsOut(instance=pod.name, cluster=cluster, items=[InstanceEventOut.of(e) for e in found])
