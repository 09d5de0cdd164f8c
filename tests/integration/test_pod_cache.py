"""The pod watch cache against the sandbox: it follows changes, and survives an apiserver outage."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable

from dockyard.adapters.kube.client import KubeCluster
from dockyard.adapters.kube.watch import PodCache, running
from dockyard.domain.render import GroupRef, render
from dockyard.domain.versions import parse_spec
from dockyard.sandbox import cluster, processes
from tests.integration.harness.sandboxes import Sandbox
from tests.integration.harness.waiting import eventually

SPEC = parse_spec({"image": "registry.local/shop/web:1", "flavor": "tiny", "instances": 3})


async def _deploy(kube: KubeCluster, ref: GroupRef, number: int, instances: int) -> None:
    for manifest in render(ref, number, SPEC.with_changes(instances=instances)):
        await kube.apply(manifest)


async def test_the_cache_follows_a_group_without_asking_the_apiserver(
    sandbox: Sandbox, kube: KubeCluster, namespace: str
) -> None:
    ref = GroupRef(system=namespace, app="web", group="prod")
    async with KubeCluster(sandbox.kubeconfig) as watcher, running(PodCache(watcher)) as cache:
        await asyncio.wait_for(cache.synced.wait(), 30)
        assert cache.group_pods(namespace, "web", "prod") == []
        await _deploy(kube, ref, 1, 3)

        def all_ready(count: int, version: str) -> Callable[[], bool]:
            def check() -> bool:
                pods = [p for p in cache.group_pods(namespace, "web", "prod") if not p.deleting]
                return len(pods) == count and all(p.ready and p.version == version for p in pods)

            return check

        await eventually(all_ready(3, "1"), "3 ready instances in the cache")
        pods = cache.group_pods(namespace, "web", "prod")
        assert all(p.node and p.pod_ip and p.phase == "Running" for p in pods)

        await _deploy(kube, ref, 1, 1)  # scale in: deletions reach the cache
        await eventually(lambda: len(cache.group_pods(namespace, "web", "prod")) == 1, "scale-in to 1 instance")
        assert cache.lists == 1  # one list at the start; everything since came by watch


async def test_an_apiserver_outage_marks_the_cache_stale_and_it_recovers(
    sandbox: Sandbox, kube: KubeCluster, namespace: str
) -> None:
    ref = GroupRef(system=namespace, app="web", group="prod")
    await _deploy(kube, ref, 1, 2)
    async with KubeCluster(sandbox.kubeconfig) as watcher, running(PodCache(watcher)) as cache:
        await asyncio.wait_for(cache.synced.wait(), 30)
        await eventually(
            lambda: len([p for p in cache.group_pods(namespace, "web", "prod") if p.ready]) == 2, "2 ready"
        )
        apiserver = processes.find(sandbox.layout.pid_file("kube-apiserver"), marker=str(sandbox.layout.root))
        assert apiserver is not None
        os.kill(apiserver.pid, signal.SIGKILL)
        await eventually(lambda: cache.stale, "the cache to notice the outage")
        assert len(cache.group_pods(namespace, "web", "prod")) == 2  # last known state stays readable
        assert cache.last_error

        await asyncio.to_thread(cluster.up, sandbox.layout)  # brings the apiserver back
        await eventually(lambda: not cache.stale, "the cache to reconnect", timeout=90)
        assert cache.lists >= 2
        await _deploy(kube, ref, 1, 4)
        await eventually(
            lambda: len([p for p in cache.group_pods(namespace, "web", "prod") if p.ready]) == 4,
            "changes after the outage",
            timeout=90,
        )
