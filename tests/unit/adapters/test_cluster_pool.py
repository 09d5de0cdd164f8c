"""The cluster pool: reopens a client when a kubeconfig's content changes, not when it is sealed again."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from dockyard.adapters.kube.errors import KubeError
from dockyard.adapters.kube.pool import ClusterPool
from dockyard.domain.clusters import Cluster

KUBECONFIG = (
    "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
    "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n"
    "users: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\n"
)
kubeconfigs: dict[str, str] = {}


def kubeconfig_of(cluster: Cluster) -> str:
    """Stands for the box: a cluster's 'sealed' kubeconfig is a key into ``kubeconfigs``."""
    if cluster.kubeconfig not in kubeconfigs:
        raise KubeError("it was sealed with a key that is not configured")
    return kubeconfigs[cluster.kubeconfig]


@pytest.fixture
async def pool() -> AsyncIterator[ClusterPool]:
    kubeconfigs.clear()
    pool = ClusterPool(kubeconfig_of)
    yield pool
    await pool.aclose()


async def test_the_same_content_sealed_again_keeps_the_client(pool: ClusterPool) -> None:
    kubeconfigs.update({"seal-1": KUBECONFIG, "seal-2": KUBECONFIG})
    first = await pool.client(Cluster("far", "seal-1"))
    assert await pool.client(Cluster("far", "seal-2")) is first


async def test_changed_content_opens_a_new_client(pool: ClusterPool) -> None:
    kubeconfigs.update({"seal-1": KUBECONFIG, "seal-2": KUBECONFIG.replace("127.0.0.1:1", "127.0.0.1:2")})
    first = await pool.client(Cluster("far", "seal-1"))
    second = await pool.client(Cluster("far", "seal-2"))
    assert second is not first
    assert pool.get("far") is second


async def test_an_unusable_kubeconfig_closes_the_client_and_says_why(pool: ClusterPool) -> None:
    kubeconfigs["seal-1"] = KUBECONFIG
    await pool.sync([Cluster("far", "seal-1")])
    assert pool.get("far") is not None
    await pool.sync([Cluster("far", "lost")])
    assert pool.get("far") is None
    assert pool.problem("far") == "it was sealed with a key that is not configured"
    health = await pool.health([Cluster("far", "lost")], timeout=1)
    assert health["far"].detail == "it was sealed with a key that is not configured"
    with pytest.raises(KubeError):
        await pool.client(Cluster("far", "lost"))


async def test_removed_clusters_are_closed(pool: ClusterPool) -> None:
    kubeconfigs["seal-1"] = KUBECONFIG
    await pool.sync([Cluster("far", "seal-1")])
    await pool.sync([])
    assert pool.get("far") is None
