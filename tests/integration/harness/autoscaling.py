"""Autoscaling over several sandbox clusters: the load, the second cluster's series, room of a given size.

- :class:`Load`: a group total of CPU spread evenly over the group's live instances on every cluster
  (as a load balancer in front of them all would), through KWOK's usage annotation, kept every second.
- :func:`scraping`: the main sandbox's Prometheus (the one Dockyard reads) also scrapes another
  sandbox's KWOK nodes, their series labelled with the name that sandbox is registered under. One
  Prometheus per sandbox is not wired to Dockyard (docs/metrics.md, "Not done here"); this stands in
  for the federation a production setup would have, for the length of a test.
- :func:`room_pool`: a pool of nodes of the test's own on each cluster, so the group's spare room per
  cluster is known exactly (the group is placed in that pool only).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any, Protocol, TypeVar

import yaml
from lightkube.resources.core_v1 import Pod

from dockyard.adapters.kube.client import KubeCluster
from dockyard.adapters.kube.errors import KubeError
from dockyard.sandbox import monitoring
from dockyard.sandbox.binaries import KUBERNETES_VERSION
from dockyard.sandbox.topology import MANAGED_LABEL, Capacity, Pool, Topology, assign_pod_cidrs, node_manifests
from tests.integration.harness.kube import condition, live_pods
from tests.integration.harness.sandboxes import Sandbox
from tests.integration.harness.waiting import eventually

USAGE = "kwok.x-k8s.io/usage-cpu"


class Load:
    """A group total of CPU (millicores) spread evenly over the group's live instances on all of
    ``kubes`` in whole millicores, rounded down as in test_autoscale.py (600m over 11: 54m each, 594m;
    100m over 12: 8m each, 96m), so a total of exactly n × baseline is not read as a little more than
    that (ceil(100.4m / 50m) is 3); new instances get their share within a second."""

    def __init__(self, kubes: Mapping[str, KubeCluster], namespace: str, group: str = "prod") -> None:
        self.kubes = dict(kubes)
        self.namespace = namespace
        self.group = group
        self.total = 0

    async def run(self) -> None:
        while True:
            pods = [
                (kube, pod) for kube in self.kubes.values() for pod in await live_pods(kube, self.namespace, self.group)
            ]
            share = f"{max(1, self.total // max(1, len(pods)))}m"
            for kube, pod in pods:
                if (pod["metadata"].get("annotations") or {}).get(USAGE) != share:
                    patch = {"metadata": {"annotations": {USAGE: share}}}
                    with contextlib.suppress(Exception):  # a pod deleted meanwhile
                        await kube.client.patch(Pod, pod["metadata"]["name"], patch, namespace=self.namespace)
            await asyncio.sleep(1.0)


class Runs(Protocol):
    async def run(self) -> None: ...


R = TypeVar("R", bound=Runs)


@contextlib.asynccontextmanager
async def driving(runner: R) -> AsyncIterator[R]:
    """``runner.run()`` as a task for the block's length (a load, a timeline), cancelled at its end."""
    task = asyncio.create_task(runner.run())
    try:
        yield runner
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _other_kwok_job(other: Sandbox, cluster: str) -> dict[str, Any]:
    """``other``'s own ``kwok-cadvisor`` job (as its generated configuration has it), renamed, its
    series labelled ``cluster=<cluster>`` instead of ``local``."""
    jobs = monitoring.config(other.layout, other.ports)["scrape_configs"]
    job = copy.deepcopy(next(j for j in jobs if j["job_name"] == "kwok-cadvisor"))
    job["job_name"] = f"kwok-cadvisor-{cluster}"
    for rule in job["relabel_configs"]:
        if rule.get("target_label") == "cluster":
            rule["replacement"] = cluster
    return job


def _set_jobs(main: Sandbox, add: dict[str, Any] | None, drop: str) -> None:
    path = monitoring.config_path(main.layout)
    current = yaml.safe_load(path.read_text())
    jobs = [j for j in current["scrape_configs"] if j["job_name"] != drop]
    current["scrape_configs"] = [*jobs, *([add] if add else [])]
    tmp = path.with_suffix(".tmp")
    tmp.write_text(yaml.safe_dump(current, sort_keys=False))
    tmp.replace(path)
    monitoring.reload(main.layout, main.layout.pid_file("prometheus"))


@contextlib.contextmanager
def scraping(main: Sandbox, other: Sandbox, *, cluster: str) -> Iterator[None]:
    """``main``'s Prometheus scrapes ``other``'s KWOK nodes as cluster ``cluster`` (see the module)."""
    job = _other_kwok_job(other, cluster)
    _set_jobs(main, job, job["job_name"])
    try:
        yield
    finally:
        _set_jobs(main, None, job["job_name"])


def _pool_nodes(pool: str, count: int, capacity: Capacity, taken: set[str]) -> list[dict[str, Any]]:
    """``count`` KWOK nodes of ``pool`` of ``capacity``; not marked as the sandbox's, so `sandbox up`
    leaves them alone."""
    spec = Pool(name=pool, count=count, idc="test", cpu_model="test", capacity=capacity)
    nodes = node_manifests(Topology(pools=[spec]), kubelet_version=KUBERNETES_VERSION)
    assign_pod_cidrs(nodes, taken=taken)
    for node in nodes:
        del node["metadata"]["labels"][MANAGED_LABEL]
    return nodes


@contextlib.asynccontextmanager
async def room_pool(counts: Mapping[str, tuple[KubeCluster, int]], capacity: Capacity) -> AsyncIterator[str]:
    """A pool of its own (its name) with ``counts[cluster]`` nodes of ``capacity`` on each cluster,
    Ready when entered, deleted on leaving."""
    pool = f"room-{uuid.uuid4().hex[:6]}"
    made: list[tuple[KubeCluster, str]] = []
    try:
        for kube, count in counts.values():
            taken = {n.get("spec", {}).get("podCIDR", "") for n in await kube.list("v1", "Node")}
            nodes = _pool_nodes(pool, count, capacity, taken)
            await kube.create_many(nodes)
            made += [(kube, n["metadata"]["name"]) for n in nodes]

        async def ready() -> bool:
            for kube, want in counts.values():
                nodes = await kube.list("v1", "Node", labels={"dockyard.io/pool": pool})
                if len([n for n in nodes if condition(n, "Ready")]) != want:
                    return False
            return True

        await eventually(ready, f"the nodes of pool {pool} are Ready", timeout=180)
        yield pool
    finally:
        for kube, name in made:
            with contextlib.suppress(KubeError):
                await kube.delete("v1", "Node", name)
