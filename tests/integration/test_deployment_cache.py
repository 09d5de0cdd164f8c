"""The Deployment watch cache against the sandbox: it follows changes by anyone, and survives an outage."""

from __future__ import annotations

import asyncio
import os
import signal

from lightkube.resources.apps_v1 import Deployment

from dockyard.adapters.kube.client import KubeCluster
from dockyard.adapters.kube.watch import ClusterCaches, DeploymentCache, DeploymentRecord, running
from dockyard.domain.render import GroupRef, render
from dockyard.domain.versions import parse_spec
from dockyard.sandbox import cluster, processes
from tests.integration.harness.sandboxes import Sandbox
from tests.integration.harness.waiting import eventually

SPEC = parse_spec({"image": "registry.local/shop/web:1", "flavor": "tiny", "instances": 2})


async def _deploy(kube: KubeCluster, ref: GroupRef, number: int, instances: int) -> None:
    for manifest in render(ref, number, SPEC.with_changes(instances=instances)):
        await kube.apply(manifest)


def _image(record: DeploymentRecord | None) -> str:
    assert record is not None
    image: str = record.spec["template"]["spec"]["containers"][0]["image"]
    return image


async def test_the_cache_sees_a_deployment_appear_change_by_hand_and_go(
    sandbox: Sandbox, kube: KubeCluster, namespace: str
) -> None:
    ref = GroupRef(system=namespace, app="web", group="prod")
    async with KubeCluster(sandbox.kubeconfig) as watcher, running(DeploymentCache(watcher)) as cache:
        await asyncio.wait_for(cache.synced.wait(), 30)
        assert cache.get(namespace, "web-prod") is None
        await _deploy(kube, ref, 1, 2)

        def rolled_out() -> bool:
            r = cache.get(namespace, "web-prod")
            return r is not None and r.observed_generation == r.generation and r.available == r.updated == 2

        await eventually(rolled_out, "the Deployment rolled out in the cache")
        record = cache.get(namespace, "web-prod")
        assert record is not None
        assert (record.app, record.group, record.version, record.replicas, record.ready, record.total) == (
            "web",
            "prod",
            "1",
            2,
            2,
            2,
        )
        assert record.spec["template"]["spec"]["containers"][0]["imagePullPolicy"]  # a server default: the live spec

        patch = {
            "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "registry.local/shop/web:9"}]}}}
        }
        await kube.client.patch(Deployment, "web-prod", patch, namespace=namespace, field_manager="kubectl-set")
        await eventually(
            lambda: _image(cache.get(namespace, "web-prod")) == "registry.local/shop/web:9", "the new image"
        )

        await kube.delete("apps/v1", "Deployment", "web-prod", namespace=namespace)
        await eventually(lambda: cache.get(namespace, "web-prod") is None, "the Deployment to leave the cache")
        assert cache.lists == 1


async def test_deployments_not_managed_by_dockyard_are_not_watched(
    sandbox: Sandbox, kube: KubeCluster, namespace: str
) -> None:
    ref = GroupRef(system=namespace, app="web", group="prod")
    rendered = render(GroupRef(system=namespace, app="other", group="prod"), 1, SPEC)
    foreign = next(o for o in rendered if o["kind"] == "Deployment")
    foreign["metadata"]["labels"] = {"app.kubernetes.io/managed-by": "helm"}
    async with KubeCluster(sandbox.kubeconfig) as watcher, running(DeploymentCache(watcher)) as cache:
        await asyncio.wait_for(cache.synced.wait(), 30)
        await kube.apply(foreign)
        await _deploy(kube, ref, 1, 1)
        await eventually(lambda: cache.get(namespace, "web-prod") is not None, "Dockyard's Deployment")
        assert cache.get(namespace, "other-prod") is None


async def test_an_apiserver_outage_marks_both_caches_stale_and_they_recover(
    sandbox: Sandbox, kube: KubeCluster, namespace: str
) -> None:
    ref = GroupRef(system=namespace, app="web", group="prod")
    await _deploy(kube, ref, 1, 2)
    async with KubeCluster(sandbox.kubeconfig) as watcher, running(ClusterCaches(watcher)) as caches:
        await asyncio.wait_for(caches.wait_synced(), 30)
        assert not caches.stale
        await eventually(lambda: len(caches.pods.group_pods(namespace, "web", "prod")) == 2, "2 pods")
        assert caches.deployments.get(namespace, "web-prod") is not None
        apiserver = processes.find(sandbox.layout.pid_file("kube-apiserver"), marker=str(sandbox.layout.root))
        assert apiserver is not None
        os.kill(apiserver.pid, signal.SIGKILL)
        await eventually(
            lambda: bool(caches.pods.last_error and caches.deployments.last_error), "both caches to notice the outage"
        )
        assert caches.stale
        assert "pods: " in caches.last_error
        assert "deployments: " in caches.last_error
        assert caches.deployments.get(namespace, "web-prod") is not None  # last known state stays readable

        await asyncio.to_thread(cluster.up, sandbox.layout)  # brings the apiserver back
        await eventually(lambda: not caches.stale, "the caches to reconnect", timeout=90)
        assert caches.last_error == ""
        assert caches.deployments.lists >= 2
        await _deploy(kube, ref, 2, 3)

        def new_version_seen() -> bool:
            record = caches.deployments.get(namespace, "web-prod")
            return record is not None and record.version == "2" and record.replicas == 3

        await eventually(new_version_seen, "changes after the outage", timeout=90)
