"""Instances' logs through each cluster's apiserver (``pods/log``), with the pool's open clients.

Contract: :meth:`PodLogReader.read` opens one container's log on the cluster's client (opened by the
pool if needed) and yields its raw lines; every error is one of :mod:`dockyard.adapters.kube.errors`
(so the domain's ``ClusterFailure`` family). Nothing is listed: which pods to read, the caller knows
from the watch caches.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from dockyard.adapters.kube.pool import ClusterPool
from dockyard.domain.clusters import Cluster


class PodLogReader:
    def __init__(self, pool: ClusterPool) -> None:
        self._pool = pool

    @asynccontextmanager
    async def read(
        self,
        cluster: Cluster,
        namespace: str,
        pod: str,
        *,
        container: str,
        follow: bool,
        since_time: str | None = None,
        tail_lines: int | None = None,
    ) -> AsyncIterator[AsyncIterator[str]]:
        """The container's log lines (``<RFC3339Nano> <text>``) until the server ends them."""
        client = await self._pool.client(cluster)
        async with client.pod_log(
            namespace, pod, container=container, follow=follow, since_time=since_time, tail_lines=tail_lines
        ) as lines:
            yield lines
