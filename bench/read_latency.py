"""One group's instance list through the REST API at 30,000 pods vs `kubectl get pods -l`, same run.

    .venv/bin/python -m bench.read_latency --nodes 130 --pods 30000

A fresh sandbox (one pool of ``--nodes`` nodes of 64 CPU / 128 Gi / 250 pods, so 30,000 tiny pods
fit on few nodes) and a fresh Dockyard server, both in a temporary directory on free ports. Through
the API: group ``web`` with 10 instances and bulk groups of 500 (the most a group may have) for the
rest, all deploy requests sent at once. The bench waits until every pod is Ready, or until
``--max-wait`` seconds have passed and every pod at least exists (then it says so). Then:

- the server's CPU time (utime + stime from /proc) while the pods came up, per 1,000 pod changes the
  apiserver's watch cache received meanwhile (``apiserver_watch_cache_events_received_total`` of
  pods; each change reaches the server's two pod watches, the pod cache and the usage cache);
- ``GET .../groups/web/instances`` ``--reads`` times over one keep-alive connection: p50/p99;
- ``kubectl get pods -n bench -l dockyard.io/group=web -o json`` ``--kubectl-reads`` times: p50/p99;
- the server's RSS (VmRSS, VmHWM from /proc) and how many pods its cache holds (the sum of each
  group's ``instances`` from ``GET .../groups/{g}``, served by the same cache);
- unless ``--no-restart``: the server is restarted on the same database, and the time until its pod
  cache has listed every pod is measured, with its RSS right after.

Prints Markdown tables for docs/benchmarks.md. Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.deploy_throughput import APP, DockyardServer, load, rss_mib, spec, stop_on_sigterm
from dockyard.adapters.kube.client import KubeCluster
from dockyard.sandbox import cluster
from dockyard.sandbox.binaries import ensure_binaries
from dockyard.sandbox.layout import Layout, Ports
from dockyard.sandbox.topology import Capacity, Pool, Topology

SYSTEM = "bench"
MEASURED = "web"
BULK = 500


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def groups(pods: int) -> list[tuple[str, int]]:
    """The measured group (10 instances) and bulk groups of at most 500 for the rest."""
    rest, out = pods - 10, [(MEASURED, 10)]
    while rest > 0:
        out.append((f"bulk{len(out)}", min(BULK, rest)))
        rest -= out[-1][1]
    return out


def topology(nodes: int) -> Topology:
    capacity = Capacity(cpu="64", memory="128Gi", pods=250)
    return Topology(pools=[Pool(name="big", count=nodes, idc="idc-a", cpu_model="amd-epyc-7742", capacity=capacity)])


def deploy_all(server: DockyardServer, wanted: list[tuple[str, int]]) -> None:
    server.make_groups(SYSTEM, [g for g, _ in wanted])

    async def send() -> None:
        async with server.async_client() as api:
            answers = await asyncio.gather(
                *(
                    api.post(
                        f"/systems/{SYSTEM}/apps/{APP}/groups/{g}/deploy",
                        json={"spec": spec(n), "deadline_seconds": 3600},
                    )
                    for g, n in wanted
                )
            )
        for answer in answers:
            if answer.status_code != 202:
                raise RuntimeError(f"deploy answered {answer.status_code}: {answer.text}")

    asyncio.run(send())


async def _cluster_counts(kubeconfig: Path) -> tuple[int, int]:
    """(pods that exist, pods Ready) by the Deployments' status."""
    async with KubeCluster(kubeconfig, timeout=60) as kube:
        deployments: list[dict[str, Any]] = await kube.list("apps/v1", "Deployment", namespace=SYSTEM)
    status = [d.get("status") or {} for d in deployments]
    return sum(s.get("replicas") or 0 for s in status), sum(s.get("readyReplicas") or 0 for s in status)


def cached(api: httpx.Client, wanted: list[tuple[str, int]]) -> tuple[int, int]:
    """(instances, ready) summed over the groups, as the server's cache has them."""
    total = ready = 0
    for g, _ in wanted:
        st = api.get(f"/systems/{SYSTEM}/apps/{APP}/groups/{g}").json()["status"]
        total, ready = total + st["instances"], ready + st["ready"]
    return total, ready


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pod_changes(kubectl: Path, kubeconfig: Path) -> int:
    """How many pod events the apiserver's watch cache has received (creations, updates, deletions)."""
    argv = [str(kubectl), f"--kubeconfig={kubeconfig}", "get", "--raw", "/metrics"]
    total = 0.0
    for line in subprocess.run(argv, capture_output=True, text=True, check=True).stdout.splitlines():
        if line.startswith("apiserver_watch_cache_events_received_total{") and 'resource="pods"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return int(total)


def wait_pods(
    server: DockyardServer,
    kubeconfig: Path,
    wanted: list[tuple[str, int]],
    pods: int,
    max_wait: float,
    give_up: float | None = None,
) -> tuple[float, int, int, list[str]]:
    """Wait for every pod Ready, or for ``max_wait`` and every pod existing, or for ``give_up`` whatever
    exists: (seconds, existing, ready, samples)."""
    start = time.monotonic()
    samples: list[str] = []
    last_sample = -60.0
    while True:
        existing, ready = asyncio.run(_cluster_counts(kubeconfig))
        elapsed = time.monotonic() - start
        if elapsed - last_sample >= 60:
            last_sample = elapsed
            samples.append(f"{ready:,} at {elapsed:.0f} s")
            print(f"  {elapsed:6.0f}s  {existing} pods exist, {ready} Ready (load {load()})", flush=True)
        if ready >= pods or (existing >= pods and elapsed > max_wait) or (give_up and elapsed > give_up):
            return elapsed, existing, ready, samples
        time.sleep(10)


def read_api(server: DockyardServer, path: str, reads: int) -> tuple[list[float], Any]:
    """``reads`` timed GETs of ``path`` (under the server's root) over one connection; the samples and the last body."""
    samples = []
    with httpx.Client(base_url=server.url, headers=server.headers, timeout=120) as api:
        for _ in range(20):
            api.get(path).raise_for_status()  # warm the connection and the server's code paths
        for _ in range(reads):
            t = time.perf_counter()
            answer = api.get(path)
            samples.append(time.perf_counter() - t)
            answer.raise_for_status()
    return samples, answer.json()


def read_kubectl(kubectl: Path, kubeconfig: Path, reads: int) -> list[float]:
    argv = [str(kubectl), f"--kubeconfig={kubeconfig}", "get", "pods", "-n", SYSTEM]
    argv += ["-l", f"dockyard.io/app={APP},dockyard.io/group={MEASURED}", "-o", "json"]
    samples = []
    for _ in range(reads):
        t = time.perf_counter()
        out = subprocess.run(argv, capture_output=True, check=True).stdout
        samples.append(time.perf_counter() - t)
    if out.count(b'"kind": "Pod"') != 10:
        raise RuntimeError("kubectl did not list 10 pods")
    return samples


def restart(server: DockyardServer, wanted: list[tuple[str, int]], pods: int) -> tuple[float, float, float, float]:
    """Restart the server; (s to /readyz, s until the cache is connected, s until it holds every pod, RSS MiB)."""
    server.stop()
    start = time.monotonic()
    server.start(timeout=600)
    ready = time.monotonic() - start
    with server.client() as api:
        while not api.get("/clusters/local").json().get("connected"):
            time.sleep(0.1)
        connected = time.monotonic() - start
        while cached(api, wanted)[0] < pods:
            time.sleep(0.5)
        full = time.monotonic() - start
    return ready, connected, full, rss_mib(server.pid)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=130)
    parser.add_argument("--pods", type=int, default=30000)
    parser.add_argument("--reads", type=int, default=300)
    parser.add_argument("--kubectl-reads", type=int, default=30)
    parser.add_argument("--max-wait", type=float, default=1500, help="stop waiting for Ready after this (s)")
    parser.add_argument("--give-up", type=float, default=None, help="stop waiting after this (s), whatever exists")
    parser.add_argument("--no-restart", action="store_true")
    args = parser.parse_args()
    stop_on_sigterm()
    kubectl = ensure_binaries().kubectl
    root = Path(tempfile.mkdtemp(prefix="dockyard-bench-"))
    layout = Layout(root / "sandbox")
    (root / "server").mkdir()
    server = DockyardServer(root / "server")
    wanted = groups(args.pods)
    try:
        cluster.up(layout, ports=Ports.pick_free(), topology=topology(args.nodes), wait_timeout=600)
        print(f"sandbox up: {args.nodes} nodes (load {load()})", flush=True)
        server.start()
        server.register(layout.kubeconfig)
        start = time.monotonic()
        cpu_start, changes_start = cpu_seconds(server.pid), pod_changes(kubectl, layout.kubeconfig)
        deploy_all(server, wanted)
        print(f"{len(wanted)} deploys accepted in {time.monotonic() - start:.1f}s", flush=True)
        waited, existing, ready, progress = wait_pods(
            server, layout.kubeconfig, wanted, args.pods, args.max_wait, args.give_up
        )
        print(f"{existing} pods exist, {ready} Ready after {waited:.0f}s", flush=True)
        cpu_used = cpu_seconds(server.pid) - cpu_start
        changes = pod_changes(kubectl, layout.kubeconfig) - changes_start
        load_measure = load()
        rss_before = rss_mib(server.pid)
        instances = f"/api/v1/systems/{SYSTEM}/apps/{APP}/groups/{MEASURED}/instances"
        api_samples, body = read_api(server, instances, args.reads)
        if len(body["items"]) != 10:
            raise RuntimeError(f"group {MEASURED} has {len(body['items'])} instances, not 10")
        # Where the time goes: the HTTP stack alone, then the token check (one database read) alone.
        health_samples, _ = read_api(server, "/healthz", args.reads)
        me_samples, _ = read_api(server, "/api/v1/users/me", args.reads)
        kubectl_samples = read_kubectl(kubectl, layout.kubeconfig, args.kubectl_reads)
        rss_after = rss_mib(server.pid)
        with server.client() as api:
            in_cache, ready_in_cache = cached(api, wanted)
        load_after = load()
        restarted = None if args.no_restart else restart(server, wanted, existing)
    except BaseException:
        if server.log.exists():
            print("".join(server.log.read_text().splitlines(keepends=True)[-30:]), file=sys.stderr)
        raise
    finally:
        server.stop()
        cluster.down(layout)
        shutil.rmtree(root, ignore_errors=True)

    a50, a99 = _percentiles(api_samples)
    k50, k99 = _percentiles(kubectl_samples)
    print()
    print(f"pods Ready over time: {', '.join(progress)}; {ready:,} of {existing:,} Ready after {waited:.0f} s")
    print(f"load during reads: {load_measure} → {load_after}; date {time.strftime('%Y-%m-%d')}")
    print(
        f"server CPU while the pods came up: {cpu_used:.1f} s over {waited:.0f} s ({cpu_used / waited:.1%} of a core), "
        f"{changes:,} pod changes: {cpu_used / max(changes, 1) * 1e6:.0f} ms per 1,000 pod changes"
    )
    print()
    print(f"| instance list of one group (10), cluster with {existing:,} Dockyard pods | p50 | p99 | reads |")
    print("|---|---|---|---|")
    print(
        f"| Dockyard `GET …/groups/web/instances` (HTTP, keep-alive) | {a50 * 1e3:.2f} ms | {a99 * 1e3:.2f} ms "
        f"| {args.reads} |"
    )
    print(f"| `kubectl get pods -n … -l … -o json` | {k50 * 1e3:.1f} ms | {k99 * 1e3:.1f} ms | {args.kubectl_reads} |")
    print(f"ratio at p50: {k50 / a50:,.0f}×; at p99: {k99 / a99:,.0f}×")
    print()
    print("| same server, same connection | p50 | p99 |")
    print("|---|---|---|")
    for name, samples in (
        ("`GET /healthz` (no token, no database)", health_samples),
        ("`GET /api/v1/users/me` (token check: a cached caller, one counter read)", me_samples),
        ("`GET …/instances` (token check, group, watch cache)", api_samples),
    ):
        p50, p99 = _percentiles(samples)
        print(f"| {name} | {p50 * 1e3:.2f} ms | {p99 * 1e3:.2f} ms |")
    print()
    print(f"server cache holds {in_cache:,} pods ({ready_in_cache:,} Ready); cluster has {existing:,}")
    print(f"server RSS before reads {rss_before[0]:.0f} MiB, after {rss_after[0]:.0f} MiB, peak {rss_after[1]:.0f} MiB")
    if restarted:
        up, connected, full, rss = restarted
        print(
            f"restart at {existing:,} pods: /readyz in {up:.1f} s, cache connected (first list done) in "
            f"{connected:.1f} s, every pod in cache in {full:.1f} s; RSS then {rss:.0f} MiB"
        )


if __name__ == "__main__":
    main()
