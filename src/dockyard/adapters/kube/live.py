"""Live state: one set of watch caches per registered cluster, read by request handlers (no API calls).

Contract: :meth:`LiveState.sync` starts caches for clusters it does not watch yet (retrying those
whose kubeconfig could not be loaded before) and stops those no longer registered or whose kubeconfig
changed (compared by SHA-256: the kubeconfig itself is asked of ``kubeconfig_of`` and dropped at
once); the server calls it at start-up, on registration and every 30 s, so a cluster registered
through another replica is watched too. The caches use clients of their own, which nothing else
closes. Reads never block and never call the apiserver: a cluster being synced or disconnected reads
as not connected, with its last known records.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from dataclasses import dataclass

from dockyard.adapters.kube.capacity import UsageIndex
from dockyard.adapters.kube.client import KubeCluster
from dockyard.adapters.kube.errors import KubeError
from dockyard.adapters.kube.pool import UNUSABLE, KubeconfigOf, digest
from dockyard.adapters.kube.watch import ClusterCaches
from dockyard.domain.clusters import Cluster
from dockyard.domain.live import Capacity, Connection, DeploymentRecord, PlacedInstance, PodRecord, WatchHealth
from dockyard.domain.model import GroupPath


@dataclass
class _Watched:
    digest: str  # of the kubeconfig the client was opened with
    idc: str  # the cluster's idc label
    client: KubeCluster
    caches: ClusterCaches
    task: asyncio.Task[None]


class LiveState:
    def __init__(self, kubeconfig_of: KubeconfigOf) -> None:
        self._kubeconfig_of = kubeconfig_of
        self._watched: dict[str, _Watched] = {}
        self._problems: dict[str, str] = {}
        self._lock = asyncio.Lock()

    async def sync(self, clusters: list[Cluster]) -> None:
        async with self._lock:
            wanted = {c.name: c for c in clusters}
            for name in list(self._watched):
                if name not in wanted:
                    await self._stop(name)
            self._problems = {}
            for name, cluster in wanted.items():
                try:
                    kubeconfig = self._kubeconfig_of(cluster)
                except KubeError as e:
                    self._problems[name] = str(e)
                    await self._stop(name)
                    continue
                fingerprint = digest(kubeconfig)
                if name in self._watched:
                    if self._watched[name].digest == fingerprint:
                        self._watched[name].idc = cluster.labels.get("idc", "")
                        continue
                    await self._stop(name)
                try:
                    client = KubeCluster.from_kubeconfig(kubeconfig)
                except KubeError:
                    continue  # unusable kubeconfig: reads as not connected, tried again next sync
                caches = ClusterCaches(client)
                task = asyncio.create_task(caches.run(), name=f"watch-{name}")
                self._watched[name] = _Watched(fingerprint, cluster.labels.get("idc", ""), client, caches, task)

    def connection(self, cluster: str) -> Connection:
        watched = self._watched.get(cluster)
        if watched is None:
            return Connection(False, self._problems.get(cluster, UNUSABLE))
        if not watched.caches.stale:
            return Connection(True, "")
        return Connection(False, watched.caches.last_error or "connecting")

    def pods(self, cluster: str, group: GroupPath) -> list[PodRecord]:
        watched = self._watched.get(cluster)
        return watched.caches.pods.group_pods(group.system, group.app, group.group) if watched else []

    def instances(self, cluster: str) -> list[PodRecord]:
        watched = self._watched.get(cluster)
        return watched.caches.pods.all() if watched else []

    def revision(self, cluster: str) -> int:
        watched = self._watched.get(cluster)
        return watched.caches.pods.revision if watched else 0

    def deployment(self, cluster: str, namespace: str, name: str) -> DeploymentRecord | None:
        watched = self._watched.get(cluster)
        return watched.caches.deployments.get(namespace, name) if watched else None

    def service_exists(self, cluster: str, namespace: str, name: str) -> bool | None:
        """Whether Dockyard's Service ``name`` exists in ``namespace``, as last seen; ``None`` while
        the cluster's Service cache cannot tell."""
        watched = self._watched.get(cluster)
        return watched.caches.services.exists(namespace, name) if watched else None

    def capacity(self, cluster: str) -> Capacity:
        watched = self._watched.get(cluster)
        if watched is None:
            return Capacity([], UsageIndex(), False)
        nodes, usage = watched.caches.nodes, watched.caches.usage
        return Capacity(nodes.all(), usage.index, nodes.synced.is_set() and usage.synced.is_set())

    def placed_instances(self) -> list[PlacedInstance]:
        return [
            PlacedInstance(name, watched.idc, pod)
            for name, watched in self._watched.items()
            for pod in watched.caches.pods.all()
        ]

    def watch_health(self) -> list[WatchHealth]:
        now = time.monotonic()
        out = []
        for name, watched in self._watched.items():
            heard = watched.caches.pods.heard  # what instance views and /metrics read
            silence = now - heard if heard > 0 else math.inf
            out.append(WatchHealth(name, not watched.caches.stale, silence))
        return out

    async def _stop(self, name: str) -> None:
        watched = self._watched.pop(name, None)
        if watched is None:
            return
        watched.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watched.task
        await watched.client.aclose()

    async def aclose(self) -> None:
        async with self._lock:
            for name in list(self._watched):
                await self._stop(name)
