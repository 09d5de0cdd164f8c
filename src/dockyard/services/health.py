"""Readiness of the platform: the database and every registered cluster."""

from __future__ import annotations

from dataclasses import dataclass

from dockyard.domain.failures import DatabaseFailure
from dockyard.services.clusters import list_clusters
from dockyard.services.platform import Platform


@dataclass(frozen=True)
class Check:
    ok: bool
    detail: str


@dataclass(frozen=True)
class Readiness:
    database: Check
    clusters: dict[str, Check]

    @property
    def ok(self) -> bool:
        return self.database.ok and all(c.ok for c in self.clusters.values())


async def readiness(platform: Platform) -> Readiness:
    """Ping the database, then ask each registered cluster's apiserver ``/readyz`` concurrently."""
    try:
        backend = await platform.db.ping()
        database = Check(ok=True, detail=backend)
        clusters = await list_clusters(platform)
    except DatabaseFailure as e:
        return Readiness(database=Check(ok=False, detail=str(e)), clusters={})
    health = await platform.clusters.health(clusters, timeout=platform.config.cluster_health_timeout)
    return Readiness(database=database, clusters={n: Check(h.ok, h.detail) for n, h in health.items()})
