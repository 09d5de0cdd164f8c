"""Use cases on clusters: register one, list them."""

from __future__ import annotations

from dockyard.domain.access import Principal, require_admin
from dockyard.domain.clusters import Cluster, validate_cluster
from dockyard.services.platform import Platform


async def register_cluster(platform: Platform, *, name: str, kubeconfig: str, labels: dict[str, str]) -> bool:
    """Register (or update) a cluster by name; True if it is new. Invalid input writes nothing.

    ``kubeconfig`` is a kubeconfig's content (YAML; stored sealed, reduced to its current context) or
    ``in-cluster``; see :func:`dockyard.domain.clusters.check_kubeconfig` for what is accepted."""
    cluster = validate_cluster(name, kubeconfig, labels, seal=platform.box.seal)
    async with platform.db.unit_of_work() as uow:
        return await uow.clusters.upsert(cluster)


async def list_clusters(platform: Platform) -> list[Cluster]:
    async with platform.db.unit_of_work() as uow:
        return await uow.clusters.all()


async def register(platform: Platform, by: Principal, *, name: str, kubeconfig: str, labels: dict[str, str]) -> bool:
    """:func:`register_cluster` for a platform admin, then watch it; :class:`Forbidden` for others."""
    require_admin(by, "registering clusters")
    created = await register_cluster(platform, name=name, kubeconfig=kubeconfig, labels=labels)
    await platform.watch()
    return created


async def visible_clusters(platform: Platform, by: Principal) -> list[Cluster]:
    """Every registered cluster: any signed-in user may see where groups can run (not their credentials)."""
    return await list_clusters(platform)
