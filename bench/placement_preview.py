"""Placement preview at 1,000 nodes / 30,000 pods: latency against list-then-compute, accuracy against the scheduler.

    .venv/bin/python -m bench.placement_preview --pods 30000 --cases 30

A fresh sandbox (1,000 KWOK nodes: two big pools of 480 nodes, 32 CPU / 128 Gi / 110 pods, zones a
and b; four small pools of 8–12 nodes, 8 CPU / 32 Gi / 30 pods, one zone each, one CPU model) and a
fresh Dockyard server, both in a temporary directory on free ports. ``--pods`` pods (30 per big node,
100m / 128 Mi, labelled like Dockyard's instances in 300 groups, so the preview has pods to select)
are created already bound to their nodes (the scheduler is not what is measured here); a few
1-CPU pods pre-fill the small pools so that not every node is alike. The measures start once the
sandbox has settled (KWOK takes minutes to play the new pods' stages). Then, in one run:

1. latency: ``POST .../groups/{g}/preview`` ``--reads`` times per shape (hard node spread over a big
   pool of 480 nodes / 14,400 pods; zone spread over the small pools) over one keep-alive
   connection, p50 / p99; against the nearest alternative a client has without Dockyard's caches:
   list every node and every pod not terminated through the apiserver, then run the same fit
   (``--list-reads`` times). The preview is measured twice: with the sandbox as it is, and with its
   metrics-server paused (its scrapes make KWOK evaluate every pod's metric expressions, about 1.8
   of this machine's 2 cores at 30,000 pods); each time also the server's own CPU per preview;
2. accuracy: ``--cases`` random cases (flavor, 1–60 instances, a small pool or all of them, no spread /
   hard node spread / hard zone spread) on the small pools: the preview's count, then the group
   deployed for real (forced) and the pods the real scheduler bound once every pod is bound or marked
   Unschedulable; the group is deleted before the next case.
Prints Markdown tables for docs/benchmarks.md. Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import msgspec
from lightkube.resources.core_v1 import Pod

from bench.deploy_throughput import APP, DockyardServer, apiserver_requests, load, rss_mib, stop_on_sigterm
from dockyard.adapters.kube import wire
from dockyard.adapters.kube.capacity import slim_node, slim_usage
from dockyard.adapters.kube.client import KubeCluster
from dockyard.domain.capacity import shape_of
from dockyard.domain.fit import PodList, place
from dockyard.domain.render import GroupRef, deployment
from dockyard.domain.versions import parse_spec
from dockyard.sandbox import cluster, processes
from dockyard.sandbox.binaries import KUBERNETES_VERSION
from dockyard.sandbox.layout import Layout, Ports
from dockyard.sandbox.topology import Capacity, Pool, Topology

SYSTEM = "bench"
T = TypeVar("T")
DOCKYARD = Path(sys.executable).parent / "dockyard"
IMAGE = "registry.local/bench/web:1"
SMALL = [("small-1", 10, "s1"), ("small-2", 10, "s2"), ("small-3", 8, "s3"), ("small-4", 12, "s4")]
SMALL_MODEL = "xeon-small"
PER_BIG_NODE = 30


def topology(big_nodes: int) -> Topology:
    big = Capacity(cpu="32", memory="128Gi", pods=110)
    small = Capacity(cpu="8", memory="32Gi", pods=30)
    pools = [
        Pool(name="big-a", count=big_nodes, idc="idc-a", zone="a", cpu_model="intel-xeon-gold-6248", capacity=big),
        Pool(name="big-b", count=big_nodes, idc="idc-b", zone="b", cpu_model="amd-epyc-7742", capacity=big),
    ]
    pools += [
        Pool(name=name, count=count, idc="idc-s", zone=zone, cpu_model=SMALL_MODEL, capacity=small)
        for name, count, zone in SMALL
    ]
    return Topology(pools=pools)


def _pod(name: str, node: str, group: str, cpu: str, memory: str) -> dict[str, Any]:
    labels = {"dockyard.io/app": "load", "dockyard.io/group": group}
    container = {"name": "app", "image": IMAGE, "resources": {"requests": {"cpu": cpu, "memory": memory}}}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "load", "labels": labels},
        "spec": {"nodeName": node, "containers": [container], "terminationGracePeriodSeconds": 0},
    }


async def fill(kube: KubeCluster, pods: int, rng: random.Random) -> float:
    """Create the load: ``pods`` bound pods, mostly on the big pools; returns the seconds it took."""
    await kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "load"}})
    nodes = [n["metadata"]["name"] for n in await kube.list("v1", "Node")]
    big = sorted(n for n in nodes if n.startswith("big-"))
    small = sorted(n for n in nodes if n.startswith("small-"))
    manifests = []
    for node in small:
        for i in range(rng.randrange(0, 4)):
            manifests.append(_pod(f"{node}-fill-{i}", node, "fill", "1", "1Gi"))
    i = 0
    while len(manifests) < pods:
        node = big[i % len(big)]
        manifests.append(_pod(f"load-{i:05d}", node, f"g{i % 300}", "100m", "128Mi"))
        i += 1
    start = time.monotonic()
    for chunk in range(0, len(manifests), 2000):
        await kube.create_many(manifests[chunk : chunk + 2000], concurrency=32)
        print(f"  {min(chunk + 2000, len(manifests))} pods created ({time.monotonic() - start:.0f}s)", flush=True)
    return time.monotonic() - start


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


SHAPES: dict[str, dict[str, Any]] = {
    "hard node spread, big pool (480 nodes, 14,400 pods)": {
        "flavor": "small",
        "instances": 50,
        "placement": {"pool": "big-a", "spread": {"level": "node", "hard": True}},
    },
    "hard zone spread, 4 small pools (40 nodes)": {
        "flavor": "medium",
        "instances": 60,
        "placement": {"cpu_model": SMALL_MODEL, "spread": {"level": "zone", "hard": True}},
    },
}


Latency = dict[str, tuple[float, float, float]]  # shape → p50, p99 (s), server CPU per preview (ms)


def measure_api(server: DockyardServer, reads: int) -> Latency:
    """Each shape ``reads`` times over one keep-alive connection: p50 / p99, and the server's own CPU
    per preview (its CPU time over the reads, less what it spent idle just before: the watch events)."""
    out = {}
    with server.client() as api:
        for label, shape in SHAPES.items():
            body = {"spec": {"image": IMAGE, **shape}}
            path = f"/systems/{SYSTEM}/apps/{APP}/groups/measured/preview"
            api.post(path, json=body).raise_for_status()  # warm
            idle = cpu_rate(server.pid, 5.0)
            samples = []
            cpu, wall = cpu_seconds(server.pid), time.monotonic()
            for _ in range(reads):
                start = time.perf_counter()
                api.post(path, json=body).raise_for_status()
                samples.append(time.perf_counter() - start)
            used = cpu_seconds(server.pid) - cpu - idle * (time.monotonic() - wall)
            out[label] = (*percentiles(samples), 1000 * used / reads)
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_rate(pid: int, seconds: float) -> float:
    """CPU seconds per second ``pid`` uses over the next ``seconds``."""
    before = cpu_seconds(pid)
    time.sleep(seconds)
    return (cpu_seconds(pid) - before) / seconds


@contextlib.contextmanager
def metrics_paused(layout: Layout, settle: float = 20.0) -> Iterator[None]:
    """The sandbox's metrics-server stopped (SIGSTOP) for the block, then resumed: its scrapes of 1,000
    KWOK nodes make KWOK evaluate the metric expressions of every pod, about 1.8 of this machine's 2
    cores at 30,000 pods, which no production cluster puts on Dockyard's machine. ``settle``: seconds
    for KWOK to finish the scrape in flight."""
    running = processes.find(layout.pid_file("metrics-server"), marker=str(layout.root))
    if running is None:
        raise RuntimeError("the sandbox's metrics-server is not running")
    os.kill(running.pid, signal.SIGSTOP)
    try:
        time.sleep(settle)
        yield
    finally:
        os.kill(running.pid, signal.SIGCONT)


async def measure_list_then_compute(kubeconfig: Path, reads: int) -> dict[str, tuple[float, float]]:
    """The alternative without caches: list nodes and pods (as the scheduler's informers do), then fit."""
    out: dict[str, list[float]] = {label: [] for label in SHAPES}
    ref = GroupRef(system=SYSTEM, app=APP, group="measured")
    async with KubeCluster(kubeconfig, timeout=120.0) as kube:
        for label, shape in SHAPES.items():
            spec = parse_spec({"image": IMAGE, **shape})
            pod_shape = shape_of(SYSTEM, deployment(ref, 1, spec)["spec"]["template"])
            for _ in range(reads):
                start = time.perf_counter()
                nodes = [slim_node(n) for n in await list_all(kube, "/api/v1/nodes", {}, wire.Node)]
                ended = {"fieldSelector": "status.phase!=Succeeded,status.phase!=Failed"}
                pods = [slim_usage(p) for p in await list_all(kube, "/api/v1/pods", ended, wire.Pod)]
                place(nodes, PodList(pods), pod_shape, spec.instances)
                out[label].append(time.perf_counter() - start)
    return {label: percentiles(samples) for label, samples in out.items()}


async def list_all(kube: KubeCluster, path: str, params: dict[str, str], kind: type[T]) -> list[T]:
    """Every object at ``path``, 500 a page, decoded as the watch caches decode them."""
    decoder = msgspec.json.Decoder(wire.Page[kind])  # type: ignore[valid-type]
    out: list[T] = []
    params = {**params, "limit": "500"}
    while True:
        page = decoder.decode(await kube.get_bytes(path, params))
        out += page.items or []
        if not (page.metadata and page.metadata.continue_):
            return out
        params["continue"] = page.metadata.continue_


def random_case(rng: random.Random) -> dict[str, Any]:
    selector = rng.choice([{"pool": name} for name, _, _ in SMALL] + [{"cpu_model": SMALL_MODEL}])
    spread = rng.choice([None, {"level": "node", "hard": True}, {"level": "zone", "hard": True}])
    placement = {**selector, **({"spread": spread} if spread else {})}
    flavor = rng.choice(["tiny", "small", "medium", "large"])
    return {"image": IMAGE, "flavor": flavor, "instances": rng.randint(1, 60), "placement": placement}


async def _settled(kube: KubeCluster, group: str, instances: int, timeout: float = 300) -> int:
    """Pods of ``group`` the scheduler bound, once all exist and each is bound or marked Unschedulable."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pods = await kube.list("v1", "Pod", namespace=SYSTEM, labels={"dockyard.io/group": group})
        live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
        bound = sum(1 for p in live if p["spec"].get("nodeName"))
        marked = sum(
            1
            for p in live
            if not p["spec"].get("nodeName")
            and any(
                c["type"] == "PodScheduled" and c.get("reason") == "Unschedulable"
                for c in p.get("status", {}).get("conditions") or []
            )
        )
        if len(live) == instances and bound + marked == instances:
            return bound
        await asyncio.sleep(1.0)
    raise RuntimeError(f"group {group}'s pods did not settle in {timeout:.0f}s")


async def accuracy(server: DockyardServer, kubeconfig: Path, cases: int, seed: int) -> list[tuple[str, int, int, int]]:
    rng = random.Random(seed)
    results = []
    async with server.async_client() as api, KubeCluster(kubeconfig, timeout=60.0) as kube:
        for i in range(cases):
            # The preview judges the nodes as they are; a node that turns Ready between the preview and
            # the scheduling (KWOK renewing a late lease) is a race no preview can win, so each case
            # starts with every node Ready, and a case during which one was not is reported as such.
            await _all_ready(api)
            before = (await api.get("/clusters/local/status")).json()["pods"]
            spec, group = random_case(rng), f"c{i}"
            base = f"/systems/{SYSTEM}/apps/{APP}/groups"
            made = await api.post(base, json={"name": group, "environment": "prod", "cluster": "local"})
            made.raise_for_status()
            preview = (await api.post(f"{base}/{group}/preview", json={"spec": spec})).json()
            deploy = await api.post(f"{base}/{group}/deploy", json={"spec": spec, "force": True, "deadline_seconds": 5})
            deploy.raise_for_status()
            bound = await _settled(kube, group, spec["instances"])
            flapped = (await api.get("/clusters/local/status")).json()["nodes"]["not_ready"]
            label = f"{spec['flavor']} ×{spec['instances']} {spec['placement']}"
            if flapped:
                label += f" ({flapped} nodes not Ready at the end)"
            results.append((label, spec["instances"], preview["fits"], bound))
            mark = "ok" if preview["fits"] == bound else "MISMATCH " + preview["clusters"][0]["message"]
            print(f"  case {i}: {label}: predicted {preview['fits']}, scheduled {bound} {mark}", flush=True)
            await _until_done(api, f"/operations/{deploy.json()['id']}")
            deleted = await api.delete(f"{base}/{group}")
            deleted.raise_for_status()
            await _until_done(api, f"/operations/{deleted.json()['id']}")
            # KWOK, saturated, may take minutes to finish terminating pods: remove them at once, and
            # wait until the server's cache has seen them go (load pods may go too, never come).
            for pod in await kube.list("v1", "Pod", namespace=SYSTEM, labels={"dockyard.io/group": group}):
                with contextlib.suppress(Exception):
                    await kube.client.delete(Pod, pod["metadata"]["name"], namespace=SYSTEM, grace_period=0)
            while (await api.get("/clusters/local/status")).json()["pods"] > before:
                await asyncio.sleep(0.5)
    return results


async def _all_ready(api: httpx.AsyncClient, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while (await api.get("/clusters/local/status")).json()["nodes"]["not_ready"]:
        if time.monotonic() > deadline:
            raise RuntimeError(f"nodes did not all turn Ready in {timeout:.0f}s")
        await asyncio.sleep(1)


async def _until_done(api: httpx.AsyncClient, path: str) -> None:
    while (await api.get(path)).json()["status"] not in ("succeeded", "failed"):
        await asyncio.sleep(0.5)


def pod_status_patches(layout: Layout) -> float:
    """How many pod status PATCHes the sandbox's apiserver has answered (its own counter)."""
    argv = [str(DOCKYARD), "sandbox", "kubectl", "--dir", str(layout.root), "--", "get", "--raw", "/metrics"]
    metrics = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    wanted = {"resource": "pods", "subresource": "status", "verb": "PATCH"}
    return sum(value for labels, value in apiserver_requests(metrics) if wanted.items() <= labels.items())


def wait_settled(layout: Layout, rate: float = 5.0, window: float = 30.0, timeout: float = 1800) -> float:
    """Until KWOK has played the pods' stages (it works through 30,000 new pods for minutes, and plays
    the ready stage twice for many of them): pod status PATCHes below ``rate`` per second over
    ``window`` seconds. Returns the seconds it took. The preview is measured on a cluster at rest, as
    a production cluster's is, not during the sandbox's own start."""
    start = time.monotonic()
    before = pod_status_patches(layout)
    while True:
        time.sleep(window)
        now = pod_status_patches(layout)
        if now - before < rate * window:
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise RuntimeError(
                f"the sandbox did not settle in {timeout:.0f}s ({(now - before) / window:.0f} patches/s)"
            )
        before = now


def wait_cached(server: DockyardServer, nodes: int, pods: int, timeout: float = 1800) -> tuple[float, dict[str, Any]]:
    """Until the server's caches hold every node and pod; returns the seconds and the cluster's status."""
    start = time.monotonic()
    with server.client() as api:
        while True:
            status = api.get("/clusters/local/status").json()
            known = status["nodes"]["ready"] + status["nodes"]["not_ready"]
            if status["connected"] and known == nodes and status["pods"] >= pods:
                return time.monotonic() - start, status
            if time.monotonic() - start > timeout:
                raise RuntimeError(f"the server's caches did not reach {nodes} nodes / {pods} pods: {status}")
            time.sleep(1)


def print_latency(regimes: dict[str, Latency], listed: dict[str, tuple[float, float]]) -> None:
    print()
    print(
        "| shape | sandbox | Dockyard preview (HTTP, caches) p50 / p99 | server CPU per preview "
        "| list nodes + pods, then fit p50 / p99 |"
    )
    print("|---|---|---|---|---|")
    for label in SHAPES:
        l50, l99 = listed[label]
        for regime, api in regimes.items():
            a50, a99, cpu = api[label]
            print(
                f"| {label} | {regime} | {a50 * 1000:.1f} / {a99 * 1000:.1f} ms | {cpu:.1f} ms "
                f"| {l50 * 1000:,.0f} / {l99 * 1000:,.0f} ms |"
            )
    print(flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pods", type=int, default=30000)
    parser.add_argument("--reads", type=int, default=200)
    parser.add_argument("--list-reads", type=int, default=5)
    parser.add_argument("--cases", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--big-nodes", type=int, default=480, help="nodes in each of the two big pools")
    parser.add_argument("--keep", action="store_true", help="leave the sandbox running")
    args = parser.parse_args()
    stop_on_sigterm()

    root = Path(tempfile.mkdtemp(prefix="dockyard-bench-placement-"))
    layout = Layout(root / "sandbox")
    wanted = topology(args.big_nodes)
    try:
        start = time.monotonic()
        cluster.up(layout, ports=Ports.pick_free(), topology=wanted, wait_timeout=1800)
        print(f"sandbox: {wanted.node_count} nodes Ready in {time.monotonic() - start:.0f}s", flush=True)

        async def load_pods() -> float:
            async with KubeCluster(layout.kubeconfig, timeout=120.0) as kube:
                return await fill(kube, args.pods, random.Random(args.seed))

        fill_s = asyncio.run(load_pods())
        settled_s = wait_settled(layout)
        print(
            f"sandbox settled (KWOK's pod status patches < 5/s) {settled_s:.0f}s after the pods were made", flush=True
        )
        with DockyardServer(root / "server") as server:
            server.start()
            server.register(layout.kubeconfig)
            server.make_groups(SYSTEM, ["measured"])
            cached_s, status = wait_cached(server, wanted.node_count, args.pods)
            not_ready = status["nodes"]["not_ready"]
            print(f"server caches: {args.pods} pods, {not_ready} nodes not Ready, after {cached_s:.0f}s", flush=True)
            regimes = {"as is (metrics-server scraping)": measure_api(server, args.reads)}
            listed = asyncio.run(measure_list_then_compute(layout.kubeconfig, args.list_reads))
            with metrics_paused(layout):
                regimes["metrics-server paused"] = measure_api(server, args.reads)
            rss = rss_mib(server.pid)
            print_latency(regimes, listed)
            results = asyncio.run(accuracy(server, layout.kubeconfig, args.cases, args.seed))
            machine_load = load()
    finally:
        if not args.keep:
            cluster.down(layout)
            shutil.rmtree(root, ignore_errors=True)

    print()
    memory = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30)
    print(
        f"machine: {os.cpu_count()} cores, {memory} GiB; "
        f"Kubernetes {KUBERNETES_VERSION}; date {time.strftime('%Y-%m-%d')}; load at the end {machine_load}; "
        f"{args.pods} pods created bound in {fill_s:.0f}s; {not_ready} of {wanted.node_count} nodes not Ready; "
        f"server RSS {rss[0]:.0f} MiB (peak {rss[1]:.0f})"
    )
    print()
    exact = sum(1 for _, _, predicted, bound in results if predicted == bound)
    print(f"accuracy: {exact}/{len(results)} cases exact ({100 * exact / max(1, len(results)):.0f} %)")
    print()
    print("| case | instances | preview | scheduler |")
    print("|---|---|---|---|")
    for label, instances, predicted, bound in results:
        print(f"| {label} | {instances} | {predicted} | {bound} |")


if __name__ == "__main__":
    main()
