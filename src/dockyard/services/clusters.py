"""Use cases on clusters: register one, list them."""

from __future__ import annotations

from dockyard.domain.clusters import Cluster, validate_cluster
from dockyard.services.platform import Platform


async def register_cluster(platform: Platform, *, name: str, kubeconfig: str, labels: dict[str, str]) -> bool:
    """Register (or update) a cluster by name; True if it is new. Invalid input writes nothing."""
    cluster = validate_cluster(name, kubeconfig, labels)
    async with platform.db.unit_of_work() as uow:
        return await uow.clusters.upsert(cluster)


async def list_clusters(platform: Platform) -> list[Cluster]:
    async with platform.db.unit_of_work() as uow:
        return await uow.clusters.all()
