"""How far the sandbox goes on this machine: nodes/s, pods/s until Running, RSS per component.

    .venv/bin/python -m bench.sandbox_scale --nodes 1000 --pods 30000

Starts a fresh sandbox in a temporary directory on free ports, then measures in one run:
  1. nodes: Dockyard's node creation (concurrent creates) until all are Ready, against
     `kubectl create -f` of the same kind of manifests (a separate pool) in the same cluster;
  2. pods: Deployments applied at once; the real controller-manager creates the pods, the real
     scheduler binds them, KWOK marks them Running and Ready; pods/s until all are Ready;
  3. RSS of each control-plane process at the end.
Prints a Markdown table for docs/benchmarks.md. Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from dockyard.adapters.kube.client import KubeCluster
from dockyard.sandbox import cluster, processes
from dockyard.sandbox.binaries import KUBERNETES_VERSION, ensure_binaries
from dockyard.sandbox.components import COMPONENTS
from dockyard.sandbox.layout import Layout, Ports
from dockyard.sandbox.topology import Pool, Topology, default_topology, node_manifests

REPLICAS_PER_DEPLOYMENT = 1000


def _deployment(namespace: str, index: int, replicas: int) -> dict[str, Any]:
    labels = {"app": f"load-{index}"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": f"load-{index}", "namespace": namespace},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "100%"}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": "registry.local/load:1",
                            "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}},
                        }
                    ]
                },
            },
        },
    }


async def _count_ready_nodes(kube: KubeCluster, pool: str | None = None) -> int:
    labels = {"dockyard.io/pool": pool} if pool else {"dockyard.io/sandbox-node": "true"}
    nodes = await kube.list("v1", "Node", labels=labels)
    return sum(
        1
        for n in nodes
        if any(c["type"] == "Ready" and c["status"] == "True" for c in n.get("status", {}).get("conditions") or [])
    )


async def _kubectl_nodes(kube: KubeCluster, kubectl: Path, kubeconfig: Path, count: int, workdir: Path) -> float:
    pool = Pool(name="kubectl", count=count, idc="idc-k", cpu_model="intel-xeon-gold-6248")
    manifests = node_manifests(Topology(pools=[pool]), kubelet_version=KUBERNETES_VERSION)
    path = workdir / "kubectl-nodes.json"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": manifests}))
    start = time.monotonic()
    subprocess.run(
        [str(kubectl), f"--kubeconfig={kubeconfig}", "create", "-f", str(path)], check=True, capture_output=True
    )
    while await _count_ready_nodes(kube, "kubectl") < count:
        await asyncio.sleep(0.5)
    elapsed = time.monotonic() - start
    # kubectl's own --wait watches the objects one by one: minutes for 1,000 nodes. Poll instead.
    delete = ["delete", "nodes", "-l", "dockyard.io/pool=kubectl", "--wait=false"]
    subprocess.run([str(kubectl), f"--kubeconfig={kubeconfig}", *delete], check=True, capture_output=True)
    while await kube.list("v1", "Node", labels={"dockyard.io/pool": "kubectl"}):
        await asyncio.sleep(1)
    return elapsed


async def _pods(kube: KubeCluster, pods: int) -> tuple[float, list[tuple[float, int]]]:
    namespace = "bench"
    await kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    deployments = [
        _deployment(namespace, i, min(REPLICAS_PER_DEPLOYMENT, pods - i * REPLICAS_PER_DEPLOYMENT))
        for i in range((pods + REPLICAS_PER_DEPLOYMENT - 1) // REPLICAS_PER_DEPLOYMENT)
    ]
    start = time.monotonic()
    for d in deployments:
        await kube.apply(d)
    samples: list[tuple[float, int]] = []
    while True:
        current = await kube.list("apps/v1", "Deployment", namespace=namespace)
        ready = sum(d.get("status", {}).get("readyReplicas") or 0 for d in current)
        samples.append((time.monotonic() - start, ready))
        print(f"  {samples[-1][0]:7.1f}s  {ready:6d} pods ready", flush=True)
        if ready >= pods:
            return time.monotonic() - start, samples
        await asyncio.sleep(5)


def _rss(layout: Layout) -> dict[str, int]:
    out = {}
    for name in COMPONENTS:
        running = processes.find(layout.pid_file(name), marker=str(layout.root))
        out[name] = processes.rss_bytes(running.pid) if running else 0
    return out


async def _kubectl_phase(layout: Layout, count: int, kubectl: Path) -> float:
    async with KubeCluster(layout.kubeconfig, timeout=60.0) as kube:
        return await _kubectl_nodes(kube, kubectl, layout.kubeconfig, count, layout.root)


async def _pods_phase(layout: Layout, pods: int) -> float:
    async with KubeCluster(layout.kubeconfig, timeout=60.0) as kube:
        elapsed, _samples = await _pods(kube, pods)
        return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--pods", type=int, default=30000)
    parser.add_argument("--kubectl-nodes", type=int, default=1000, help="nodes created with kubectl for comparison")
    parser.add_argument("--keep", action="store_true", help="leave the sandbox running")
    args = parser.parse_args()

    binaries = ensure_binaries()
    root = Path(tempfile.mkdtemp(prefix="dockyard-bench-"))
    layout = Layout(root)
    seed = 4
    try:
        start = time.monotonic()
        cluster.up(layout, ports=Ports.pick_free(), topology=default_topology(seed))
        control_plane_s = time.monotonic() - start
        print(f"control plane + {seed} nodes up in {control_plane_s:.1f}s", flush=True)
        kubectl_s = asyncio.run(_kubectl_phase(layout, args.kubectl_nodes, binaries.kubectl))
        print(f"kubectl: {args.kubectl_nodes} nodes Ready in {kubectl_s:.1f}s", flush=True)
        start = time.monotonic()
        result = cluster.up(layout, topology=default_topology(args.nodes), wait_timeout=1800)
        nodes_s = time.monotonic() - start
        print(f"dockyard: {result.nodes_created} nodes Ready in {nodes_s:.1f}s", flush=True)
        pods_s = asyncio.run(_pods_phase(layout, args.pods))
        rss = _rss(layout)
    finally:
        if not args.keep:
            cluster.down(layout)
            shutil.rmtree(root, ignore_errors=True)

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    print()
    print(
        f"machine: {os.cpu_count()} cores ({cpu}), "
        f"{round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)} GiB; "
        f"Kubernetes {KUBERNETES_VERSION}; date {time.strftime('%Y-%m-%d')}"
    )
    print()
    created = result.nodes_created
    print("| measure | Dockyard sandbox | kubectl create (same cluster, same run) |")
    print("|---|---|---|")
    print(f"| control plane start (etcd → metrics-server, {seed} nodes Ready) | {control_plane_s:.1f}s | — |")
    print(
        f"| nodes created until Ready | {created} in {nodes_s:.1f}s = {created / nodes_s:.1f} nodes/s"
        f" | {args.kubectl_nodes} in {kubectl_s:.1f}s = {args.kubectl_nodes / kubectl_s:.1f} nodes/s |"
    )
    print(
        f"| pods (Deployments of {REPLICAS_PER_DEPLOYMENT}) until all Running+Ready on {args.nodes} nodes"
        f" | {args.pods} in {pods_s:.1f}s = {args.pods / pods_s:.1f} pods/s | — |"
    )
    print()
    print("| component | RSS at the end (MiB) |")
    print("|---|---|")
    for name, value in rss.items():
        print(f"| {name} | {value / 2**20:.0f} |")


if __name__ == "__main__":
    main()
