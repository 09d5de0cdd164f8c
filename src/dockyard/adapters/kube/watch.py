"""Watch caches of what Dockyard runs in one cluster: its pods and its Deployments; reads never hit the API.

The list/watch/relist/backoff loop is :class:`~dockyard.adapters.kube.watching.WatchCache` (see its
contract); this module says what is watched and what is kept of it:
- :class:`PodCache`: every pod with the label ``dockyard.io/group``, as :class:`PodRecord` (a few
  hundred bytes, not a full Pod model), read by group with :meth:`PodCache.group_pods`.
- :class:`DeploymentCache`: every Deployment labelled ``app.kubernetes.io/managed-by=dockyard``, as
  :class:`DeploymentRecord` (rollout counters plus the live ``spec`` as plain data, for drift; there
  is one Deployment per group, so keeping the spec is cheap), read with :meth:`DeploymentCache.get`.
- :class:`ServiceCache`: every Service labelled ``app.kubernetes.io/managed-by=dockyard``, by name
  only: whether a group's Service exists, so a deploy need not delete one that does not.
- :class:`ClusterCaches`: these, with the capacity caches (``capacity.py``: nodes, and every pod's
  usage), run together for one cluster.
While disconnected a cache's ``stale`` is True and its last known records stay readable.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
from collections.abc import Iterable
from typing import Any

from dockyard.adapters.kube import wire
from dockyard.adapters.kube.capacity import NodeCache, UsageCache
from dockyard.adapters.kube.client import KubeCluster
from dockyard.adapters.kube.watching import WatchCache, running
from dockyard.domain.live import DeploymentRecord, GroupKey, PodRecord
from dockyard.domain.versions import METRICS_PORT

__all__ = [
    "ClusterCaches",
    "DeploymentCache",
    "DeploymentIndex",
    "DeploymentRecord",
    "PodCache",
    "PodIndex",
    "PodRecord",
    "ServiceCache",
    "running",
    "slim",
    "slim_deployment",
]

GROUP_LABEL = "dockyard.io/group"
APP_LABEL = "dockyard.io/app"
VERSION_LABEL = "dockyard.io/version"
MANAGED_BY = {"app.kubernetes.io/managed-by": "dockyard"}
NOT_READY = "running, not ready: its readiness probe has not passed"


def slim(pod: wire.Pod) -> PodRecord:
    """A :class:`PodRecord` of a pod's JSON as decoded into :class:`~dockyard.adapters.kube.wire.Pod`."""
    meta, spec, status = pod.metadata or wire.NO_META, pod.spec, pod.status
    labels = meta.labels or {}
    statuses = (status.containerStatuses if status else None) or []
    conditions = (status.conditions if status else None) or []
    reason = ""
    for c in statuses:
        state = c.state
        if state and state.waiting and state.waiting.reason:
            reason = state.waiting.reason
        elif state and state.terminated and state.terminated.reason:
            reason = state.terminated.reason
        elif state and state.running and c.ready is False and not reason:
            # Running but not ready: the kubelet holds a running container back only for its
            # readiness (or startup) probe, so a release that gives up can name the cause.
            reason = NOT_READY
    for cond in conditions:
        if cond.type == "PodScheduled" and cond.status == "False":
            reason = cond.message or cond.reason or "Unschedulable"
    return PodRecord(
        namespace=meta.namespace or "",
        name=meta.name or "",
        uid=meta.uid or "",
        app=labels.get(APP_LABEL, ""),
        group=labels.get(GROUP_LABEL, ""),
        version=labels.get(VERSION_LABEL, ""),
        phase=(status.phase if status else None) or "Pending",
        ready=any(c.type == "Ready" and c.status == "True" for c in conditions),
        restarts=sum(c.restartCount or 0 for c in statuses),
        pod_ip=(status.podIP if status else None) or "",
        host_ip=(status.hostIP if status else None) or "",
        node=(spec.nodeName if spec else None) or "",
        created=meta.creationTimestamp.timestamp() if meta.creationTimestamp else 0.0,
        reason=reason,
        deleting=meta.deletionTimestamp is not None,
        container_id=next((c.containerID for c in statuses if c.containerID), ""),
        metrics_port=_metrics_port(spec),
    )


def _metrics_port(spec: wire.PodSpec | None) -> int:
    """The container port named ``metrics`` (a version's metrics port, rendered as declared), else 0."""
    for container in (spec.containers if spec else None) or []:
        for port in container.ports or []:
            if port.name == METRICS_PORT and port.containerPort:
                return port.containerPort
    return 0


_REVISIONS = itertools.count(1)  # process-wide, so a new index never repeats an old one's revision


class PodIndex:
    """Pods by group, and by (namespace, name) for updates; pure in-memory bookkeeping. ``revision``
    changes with every change (and differs from every other index's)."""

    def __init__(self, records: Iterable[PodRecord] = ()) -> None:
        self._by_name: dict[tuple[str, str], PodRecord] = {}
        self._by_group: dict[GroupKey, dict[str, PodRecord]] = {}
        self.revision = next(_REVISIONS)
        for record in records:
            self.put(record)

    def __len__(self) -> int:
        return len(self._by_name)

    def all(self) -> list[PodRecord]:
        return list(self._by_name.values())

    def put(self, record: PodRecord) -> None:
        self.revision = next(_REVISIONS)
        old = self._by_name.get((record.namespace, record.name))
        if old is not None and old.key != record.key:
            self._by_group.get(old.key, {}).pop(old.name, None)
        self._by_name[(record.namespace, record.name)] = record
        self._by_group.setdefault(record.key, {})[record.name] = record

    def remove(self, namespace: str, name: str) -> None:
        old = self._by_name.pop((namespace, name), None)
        if old is not None:
            self.revision = next(_REVISIONS)
            members = self._by_group.get(old.key, {})
            members.pop(name, None)
            if not members:
                self._by_group.pop(old.key, None)

    def group(self, key: GroupKey) -> list[PodRecord]:
        return sorted(self._by_group.get(key, {}).values(), key=lambda r: r.name)


class PodCache(WatchCache[wire.Pod, PodRecord, PodIndex]):
    """Every pod labelled ``dockyard.io/group``, by group."""

    def __init__(self, cluster: KubeCluster) -> None:
        super().__init__(
            cluster, path="/api/v1/pods", wire_type=wire.Pod, labels={GROUP_LABEL: None}, slim=slim, index=PodIndex
        )

    def group_pods(self, system: str, app: str, group: str) -> list[PodRecord]:
        """The group's pods by name, deleting ones included; no I/O."""
        return self._index.group((system, app, group))

    def all(self) -> list[PodRecord]:
        """Every pod, of every group; no I/O."""
        return self._index.all()

    @property
    def revision(self) -> int:
        """Changes with every change of the pods (a relist included); never repeats in this process; 0
        until the first list is done."""
        return self._index.revision if self.synced.is_set() else 0


def slim_deployment(deployment: wire.Deployment) -> DeploymentRecord:
    """A :class:`DeploymentRecord` of a Deployment's JSON as decoded into
    :class:`~dockyard.adapters.kube.wire.Deployment`."""
    meta, spec, status = deployment.metadata or wire.NO_META, deployment.spec or {}, deployment.status
    labels = meta.labels or {}
    template_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    replicas = spec.get("replicas")
    return DeploymentRecord(
        namespace=meta.namespace or "",
        name=meta.name or "",
        app=labels.get(APP_LABEL, ""),
        group=labels.get(GROUP_LABEL, ""),
        version=str(template_labels.get(VERSION_LABEL, "")),
        generation=meta.generation or 0,
        observed_generation=(status.observedGeneration if status else None) or 0,
        replicas=1 if replicas is None else int(replicas),  # 1: the apiserver's default (it always fills it in)
        ready=(status.readyReplicas if status else None) or 0,
        updated=(status.updatedReplicas if status else None) or 0,
        available=(status.availableReplicas if status else None) or 0,
        total=(status.replicas if status else None) or 0,
        spec=spec,
    )


class DeploymentIndex:
    """Deployments by (namespace, name); pure in-memory bookkeeping."""

    def __init__(self, records: Iterable[DeploymentRecord] = ()) -> None:
        self._by_name: dict[tuple[str, str], DeploymentRecord] = {(r.namespace, r.name): r for r in records}

    def __len__(self) -> int:
        return len(self._by_name)

    def put(self, record: DeploymentRecord) -> None:
        self._by_name[(record.namespace, record.name)] = record

    def remove(self, namespace: str, name: str) -> None:
        self._by_name.pop((namespace, name), None)

    def get(self, namespace: str, name: str) -> DeploymentRecord | None:
        return self._by_name.get((namespace, name))


class DeploymentCache(WatchCache[wire.Deployment, DeploymentRecord, DeploymentIndex]):
    """Every Deployment labelled ``app.kubernetes.io/managed-by=dockyard``."""

    def __init__(self, cluster: KubeCluster) -> None:
        super().__init__(
            cluster,
            path="/apis/apps/v1/deployments",
            wire_type=wire.Deployment,
            labels=MANAGED_BY,
            slim=slim_deployment,
            index=DeploymentIndex,
        )

    def get(self, namespace: str, name: str) -> DeploymentRecord | None:
        """The Deployment ``name`` in ``namespace`` as last seen, ``None`` if unknown; no I/O."""
        return self._index.get(namespace, name)


def slim_name(obj: wire.Named) -> tuple[str, str]:
    """An object's (namespace, name)."""
    meta = obj.metadata or wire.NO_META
    return sys.intern(meta.namespace or ""), meta.name or ""


class NameIndex:
    """Objects by (namespace, name), nothing else; pure in-memory bookkeeping."""

    def __init__(self) -> None:
        self._names: set[tuple[str, str]] = set()

    def __len__(self) -> int:
        return len(self._names)

    def put(self, record: tuple[str, str]) -> None:
        self._names.add(record)

    def remove(self, namespace: str, name: str) -> None:
        self._names.discard((namespace, name))

    def __contains__(self, key: object) -> bool:
        return key in self._names


class ServiceCache(WatchCache[wire.Named, tuple[str, str], NameIndex]):
    """Every Service labelled ``app.kubernetes.io/managed-by=dockyard``, by name only."""

    def __init__(self, cluster: KubeCluster) -> None:
        super().__init__(
            cluster, path="/api/v1/services", wire_type=wire.Named, labels=MANAGED_BY, slim=slim_name, index=NameIndex
        )

    def exists(self, namespace: str, name: str) -> bool | None:
        """Whether the Service exists, as last seen; ``None`` while the cache cannot tell (not connected)."""
        return (namespace, name) in self._index if self.connected else None


class ClusterCaches:
    """One cluster's watch caches, run together: :attr:`pods`, :attr:`deployments`, :attr:`services`,
    :attr:`nodes`, :attr:`usage`."""

    def __init__(self, cluster: KubeCluster) -> None:
        self.pods = PodCache(cluster)
        self.deployments = DeploymentCache(cluster)
        self.services = ServiceCache(cluster)
        self.nodes = NodeCache(cluster)
        self.usage = UsageCache(cluster)

    def _all(self) -> tuple[tuple[str, WatchCache[Any, Any, Any]], ...]:
        return (
            ("pods", self.pods),
            ("deployments", self.deployments),
            ("services", self.services),
            ("nodes", self.nodes),
            ("usage", self.usage),
        )

    @property
    def stale(self) -> bool:
        """True while any cache is disconnected."""
        return any(cache.stale for _, cache in self._all())

    @property
    def last_error(self) -> str:
        """The latest failure of each cache still failing, ``"pods: ..."``; empty when all are connected."""
        return "; ".join(f"{name}: {cache.last_error}" for name, cache in self._all() if cache.last_error)

    async def wait_synced(self) -> None:
        """Return once every cache has made its first list."""
        for _, cache in self._all():
            await cache.synced.wait()

    async def run(self) -> None:
        """Run every cache until cancelled; never raises but :class:`asyncio.CancelledError`."""
        async with asyncio.TaskGroup() as tasks:
            for _, cache in self._all():
                tasks.create_task(cache.run())
