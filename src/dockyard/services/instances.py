"""One instance of a group: restart it, read its log's tail and its events.

Contracts: every use case authorizes first (``deploy`` to restart, ``read`` for the rest) and then
finds the instance among the group's own, from the watch caches: a name that is not one of the
group's instances is 404, whatever else it names (another group's pod, another tenant's). Restart
deletes the pod; the group's Deployment brings a new one (a new name), so the group is never
changed. An instance already being deleted is 409. The cluster's API is asked only for the action
itself, the log and the events; a cluster that cannot be reached is 503 and changes nothing.
"""

from __future__ import annotations

from dockyard.domain import instances as decide
from dockyard.domain.access import Principal, authorize
from dockyard.domain.errors import Conflict, NotFound, Unavailable
from dockyard.domain.failures import ClusterFailure, ClusterNotFound, ClusterRefused
from dockyard.domain.instances import InstanceEvent
from dockyard.domain.live import PodRecord
from dockyard.domain.model import GroupPath
from dockyard.services import status
from dockyard.services.platform import Platform
from dockyard.services.ports import ClusterClient


async def restart(platform: Platform, by: Principal, group: GroupPath, name: str) -> tuple[str, PodRecord]:
    """Delete the instance's pod; ``(cluster, the instance as it was)``."""
    authorize(by, "deploy", group.system, group.app)
    cluster, pod = await _instance(platform, by, group, name)
    if pod.deleting:
        raise Conflict(f"instance {name!r} is already being deleted")
    kube = await _client(platform, cluster)
    try:
        gone = await kube.delete("v1", "Pod", pod.name, namespace=pod.namespace)
    except ClusterFailure as e:
        raise Unavailable(f"cluster {cluster!r} did not delete instance {name!r}: {e}; try again") from e
    if not gone:
        raise NotFound(f"instance {name!r} does not exist in group {group}")
    return cluster, pod


async def log_tail(
    platform: Platform, by: Principal, group: GroupPath, name: str, *, tail: int, previous: bool = False
) -> tuple[str, PodRecord, list[str]]:
    """The last ``tail`` lines of the instance's log (``previous``: of its container's last run)."""
    tail = decide.check_tail(tail)
    cluster, pod = await _instance(platform, by, group, name)
    kube = await _client(platform, cluster)
    try:
        text = await kube.pod_log_tail(pod.namespace, pod.name, tail_lines=tail, previous=previous)
    except ClusterNotFound as e:
        raise NotFound(f"instance {name!r} does not exist in group {group}") from e
    except ClusterRefused as e:  # e.g. its container has not started, or has no previous run
        raise Conflict(f"the log of instance {name!r} cannot be read now: {e}") from e
    except ClusterFailure as e:
        raise Unavailable(f"cluster {cluster!r} did not give the log of instance {name!r}: {e}") from e
    return cluster, pod, decide.log_lines(text)


async def events(
    platform: Platform, by: Principal, group: GroupPath, name: str
) -> tuple[str, PodRecord, list[InstanceEvent]]:
    """What happened to the instance (scheduling, pulls, probes, kills), oldest first."""
    cluster, pod = await _instance(platform, by, group, name)
    kube = await _client(platform, cluster)
    try:
        raw = await kube.pod_events(pod.namespace, pod.name)
    except ClusterFailure as e:
        raise Unavailable(f"cluster {cluster!r} did not give the events of instance {name!r}: {e}") from e
    return cluster, pod, decide.events(raw, uid=pod.uid)


async def _instance(platform: Platform, by: Principal, group: GroupPath, name: str) -> tuple[str, PodRecord]:
    found, _stale = await status.instances(platform, by, group)  # authorizes ``read``; 404 for no group
    return decide.find(name, found, group)


async def _client(platform: Platform, cluster: str) -> ClusterClient:
    async with platform.db.unit_of_work() as uow:
        known = {c.name: c for c in await uow.clusters.all()}
    if cluster not in known:
        raise Unavailable(f"cluster {cluster!r} is not registered")
    try:
        return await platform.clusters.client(known[cluster])
    except ClusterFailure as e:
        raise Unavailable(f"cluster {cluster!r} cannot be reached: {e}") from e
