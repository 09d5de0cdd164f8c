"""One client per registered cluster, kept open and replaced when a cluster's kubeconfig changes."""

from __future__ import annotations

import asyncio
from pathlib import Path

from dockyard.adapters.kube.client import Health, KubeCluster
from dockyard.adapters.kube.errors import KubeError
from dockyard.domain.clusters import Cluster


class ClusterPool:
    def __init__(self) -> None:
        self._clients: dict[str, tuple[str, KubeCluster]] = {}
        self._lock = asyncio.Lock()

    async def sync(self, clusters: list[Cluster]) -> None:
        """Open clients for new clusters, reopen changed ones, close removed ones (one caller at a time)."""
        async with self._lock:
            await self._sync(clusters)

    async def _sync(self, clusters: list[Cluster]) -> None:
        wanted = {c.name: c.kubeconfig for c in clusters}
        for name, (kubeconfig, client) in list(self._clients.items()):
            if wanted.get(name) != kubeconfig:
                self._clients.pop(name, None)
                await client.aclose()
        for name, kubeconfig in wanted.items():
            if name not in self._clients:
                try:
                    self._clients[name] = (kubeconfig, KubeCluster(Path(kubeconfig)))
                except KubeError:
                    continue  # health() reports it as unusable

    async def client(self, cluster: Cluster) -> KubeCluster:
        """The open client of ``cluster``, opened now if needed; :class:`KubeError` if unusable."""
        async with self._lock:
            entry = self._clients.get(cluster.name)
            if entry is None or entry[0] != cluster.kubeconfig:
                if entry is not None:
                    self._clients.pop(cluster.name, None)
                    await entry[1].aclose()
                self._clients[cluster.name] = (cluster.kubeconfig, KubeCluster(Path(cluster.kubeconfig)))
            return self._clients[cluster.name][1]

    def get(self, name: str) -> KubeCluster | None:
        entry = self._clients.get(name)
        return entry[1] if entry else None

    async def health(self, clusters: list[Cluster], *, timeout: float) -> dict[str, Health]:
        """Each cluster's apiserver readiness, all asked at once, each bounded by ``timeout`` seconds."""
        await self.sync(clusters)

        async def one(cluster: Cluster) -> Health:
            client = self.get(cluster.name)
            if client is None:
                return Health(ok=False, detail="its kubeconfig cannot be loaded")
            try:
                return await asyncio.wait_for(client.health(), timeout)
            except TimeoutError:
                return Health(ok=False, detail=f"no answer in {timeout:g}s")

        results = await asyncio.gather(*(one(c) for c in clusters))
        return {c.name: h for c, h in zip(clusters, results, strict=True)}

    async def aclose(self) -> None:
        for _, client in self._clients.values():
            await client.aclose()
        self._clients.clear()
