"""One client per registered cluster, kept open and replaced when a cluster's kubeconfig changes.

The pool asks ``kubeconfig_of(cluster)`` for a cluster's kubeconfig (its content, or
:data:`~dockyard.domain.clusters.IN_CLUSTER`) only while it opens or checks a client, and keeps
nothing of it but its SHA-256, to tell whether it changed. ``kubeconfig_of`` raises
:class:`KubeError` for a cluster that cannot be used, with a message fit for users (no credentials).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from typing import NoReturn

from dockyard.adapters.kube.client import Health, KubeCluster
from dockyard.adapters.kube.errors import KubeError
from dockyard.domain.clusters import Cluster

KubeconfigOf = Callable[[Cluster], str]
UNUSABLE = "its kubeconfig cannot be loaded"


def digest(kubeconfig: str) -> str:
    return hashlib.sha256(kubeconfig.encode()).hexdigest()


class ClusterPool:
    def __init__(self, kubeconfig_of: KubeconfigOf) -> None:
        self._kubeconfig_of = kubeconfig_of
        self._clients: dict[str, tuple[str, KubeCluster]] = {}
        self._problems: dict[str, str] = {}
        self._lock = asyncio.Lock()

    async def sync(self, clusters: list[Cluster]) -> None:
        """Open clients for new clusters, reopen changed ones, close removed ones (one caller at a time)."""
        async with self._lock:
            wanted = {c.name for c in clusters}
            for name in list(self._clients):
                if name not in wanted:
                    await self._close(name)
            self._problems = {n: p for n, p in self._problems.items() if n in wanted}
            for cluster in clusters:
                try:
                    await self._current(cluster)
                except KubeError:
                    continue  # health() reports it as unusable

    async def client(self, cluster: Cluster) -> KubeCluster:
        """The open client of ``cluster``, opened now if needed; :class:`KubeError` if unusable."""
        async with self._lock:
            return await self._current(cluster)

    async def _current(self, cluster: Cluster) -> KubeCluster:
        """The client of ``cluster``, reopened if its kubeconfig changed (or closed, if now unusable)."""
        try:
            kubeconfig = self._kubeconfig_of(cluster)
        except KubeError as e:
            await self._unusable(cluster.name, str(e), e)
        fingerprint = digest(kubeconfig)
        entry = self._clients.get(cluster.name)
        if entry is not None and entry[0] == fingerprint:
            return entry[1]
        try:
            client = KubeCluster.from_kubeconfig(kubeconfig)
        except KubeError as e:
            await self._unusable(cluster.name, UNUSABLE, e)
        await self._close(cluster.name)
        self._clients[cluster.name] = (fingerprint, client)
        self._problems.pop(cluster.name, None)
        return client

    async def _unusable(self, name: str, problem: str, error: KubeError) -> NoReturn:
        self._problems[name] = problem
        await self._close(name)
        raise error

    async def _close(self, name: str) -> None:
        entry = self._clients.pop(name, None)
        if entry is not None:
            await entry[1].aclose()

    def get(self, name: str) -> KubeCluster | None:
        entry = self._clients.get(name)
        return entry[1] if entry else None

    def problem(self, name: str) -> str:
        """Why the cluster's client could not be opened at the last try ("" if it was)."""
        return self._problems.get(name, "")

    async def health(self, clusters: list[Cluster], *, timeout: float) -> dict[str, Health]:
        """Each cluster's apiserver readiness, all asked at once, each bounded by ``timeout`` seconds."""
        await self.sync(clusters)

        async def one(cluster: Cluster) -> Health:
            client = self.get(cluster.name)
            if client is None:
                return Health(ok=False, detail=self.problem(cluster.name) or UNUSABLE)
            try:
                return await asyncio.wait_for(client.health(), timeout)
            except TimeoutError:
                return Health(ok=False, detail=f"no answer in {timeout:g}s")

        results = await asyncio.gather(*(one(c) for c in clusters))
        return {c.name: h for c, h in zip(clusters, results, strict=True)}

    async def aclose(self) -> None:
        for name in list(self._clients):
            await self._close(name)
