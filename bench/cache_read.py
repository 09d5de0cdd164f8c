"""Instance list of one group from the pod watch cache vs `kubectl get pods -l`, same cluster, same run.

    .venv/bin/python -m bench.cache_read --nodes 100 --pods 5000

A fresh sandbox; Deployments rendered by Dockyard: group "web" with 10 instances and bulk groups
of up to 500 for the other ``--pods - 10``; once all are Ready, the group "web" is read ``--reads`` times
from a running :class:`PodCache` and ``--kubectl-reads`` times with kubectl. Prints p50/p99 of each
and the cache's memory per pod (tracemalloc). This measures the cache itself; the REST API's
instance list (issue 3) adds the HTTP layer on top.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import tempfile
import time
import tracemalloc
from pathlib import Path

from dockyard.adapters.kube.client import KubeCluster
from dockyard.adapters.kube.watch import PodCache, running
from dockyard.domain.render import GroupRef, namespace, render
from dockyard.domain.versions import parse_spec
from dockyard.sandbox import cluster
from dockyard.sandbox.binaries import ensure_binaries
from dockyard.sandbox.layout import Layout, Ports
from dockyard.sandbox.topology import default_topology

SYSTEM = "bench"


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def _groups(pods: int) -> list[tuple[str, int]]:
    """The measured group "web" (10 instances) and bulk groups of at most 500 for the rest."""
    rest, out = pods - 10, [("web", 10)]
    while rest > 0:
        out.append((f"bulk{len(out)}", min(500, rest)))
        rest -= out[-1][1]
    return out


async def _deploy(kube: KubeCluster, pods: int) -> None:
    await kube.apply(namespace(GroupRef(SYSTEM, "web", "web")))
    for group, count in _groups(pods):
        spec = parse_spec({"image": "registry.local/web:1", "flavor": "tiny", "instances": count})
        for manifest in render(GroupRef(SYSTEM, "web", group), 1, spec):
            await kube.apply(manifest)


async def _measure(layout: Layout, args: argparse.Namespace, kubectl: Path) -> None:
    async with KubeCluster(layout.kubeconfig, timeout=60) as kube:
        await _deploy(kube, args.pods)
        tracemalloc.start()
        async with KubeCluster(layout.kubeconfig, timeout=60) as watcher, running(PodCache(watcher)) as cache:
            start = time.monotonic()
            groups = [g for g, _ in _groups(args.pods)]
            while sum(1 for g in groups for p in cache.group_pods(SYSTEM, "web", g) if p.ready) < args.pods:
                await asyncio.sleep(2)
                print(f"  {time.monotonic() - start:6.0f}s {len(cache)} pods cached", flush=True)
            memory = tracemalloc.get_traced_memory()[0]
            tracemalloc.stop()
            cache_samples = []
            for _ in range(args.reads):
                t = time.perf_counter()
                found = cache.group_pods(SYSTEM, "web", "web")
                cache_samples.append(time.perf_counter() - t)
            assert len(found) == 10
            print(f"cache holds {len(cache)} pods; traced memory while watching: {memory / len(cache):.0f} B/pod")
        kubectl_samples = []
        argv = [
            str(kubectl),
            f"--kubeconfig={layout.kubeconfig}",
            "get",
            "pods",
            "-n",
            SYSTEM,
            "-l",
            "dockyard.io/app=web,dockyard.io/group=web",
            "-o",
            "wide",
            "--no-headers",
        ]
        for _ in range(args.kubectl_reads):
            t = time.perf_counter()
            out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
            kubectl_samples.append(time.perf_counter() - t)
        assert len(out.splitlines()) == 10
    c50, c99 = _percentiles(cache_samples)
    k50, k99 = _percentiles(kubectl_samples)
    print()
    print(f"| read of one group's 10 instances, cluster with {args.pods} Dockyard pods | p50 | p99 | reads |")
    print("|---|---|---|---|")
    print(f"| Dockyard pod cache (in process) | {c50 * 1e6:.1f} µs | {c99 * 1e6:.1f} µs | {args.reads} |")
    print(
        f"| kubectl get pods -l (process start + list) | {k50 * 1e3:.1f} ms | {k99 * 1e3:.1f} ms "
        f"| {args.kubectl_reads} |"
    )
    print(f"ratio at p50: {k50 / c50:,.0f}×")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--pods", type=int, default=5000)
    parser.add_argument("--reads", type=int, default=10000)
    parser.add_argument("--kubectl-reads", type=int, default=30)
    args = parser.parse_args()
    kubectl = ensure_binaries().kubectl
    root = Path(tempfile.mkdtemp(prefix="dockyard-bench-"))
    layout = Layout(root)
    try:
        cluster.up(layout, ports=Ports.pick_free(), topology=default_topology(args.nodes))
        asyncio.run(_measure(layout, args, kubectl))
    finally:
        cluster.down(layout)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
