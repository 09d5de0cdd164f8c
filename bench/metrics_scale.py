"""Metrics at scale: Prometheus and Dockyard with many fake nodes and instances, measured in one run.

    .venv/bin/python -m bench.metrics_scale --nodes 100 --pods 2000 --requests 200

Starts a fresh sandbox (its Prometheus included) in a temporary directory on free ports and a Dockyard
server process on a fresh SQLite database, registers the sandbox and has Prometheus scrape the server;
then creates ``--pods`` instances in Deployments of ``--per-group`` in one system (the real scheduler
places them, KWOK runs them and serves their cAdvisor series), and measures:

  1. how long until every instance has its 13 per-instance series in Prometheus, and the series count
     (Prometheus' TSDB head);
  2. Prometheus' RSS and CPU (share of one core over 60 s);
  3. a group chart (per instance, the last hour) through Dockyard's API against the same PromQL sent
     straight to Prometheus' ``query_range``: p50/p99 of each and the difference;
  4. the age of the newest point of the group's total (its recorded series' newest sample).

Prints a Markdown table for docs/benchmarks.md. Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from dockyard.adapters.kube.client import KubeCluster
from dockyard.domain.metrics import METRICS
from dockyard.sandbox import cluster, monitoring, processes
from dockyard.sandbox.layout import Layout, Ports
from dockyard.sandbox.topology import default_topology

ADMIN = "dy_" + "b" * 40
SCRAPE = "dym_" + "c" * 40
SYSTEM = "bench"


def _deployment(group: str, replicas: int) -> dict[str, Any]:
    labels = {"dockyard.io/app": "web", "dockyard.io/group": group}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": f"web-{group}", "namespace": SYSTEM},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "100%"}},
            "template": {
                "metadata": {
                    "labels": {**labels, "dockyard.io/version": "1"},
                    "annotations": {"kwok.x-k8s.io/usage-cpu": "100m", "metrics.dockyard.io/receive-bytes": "4096"},
                },
                "spec": {
                    "containers": [
                        {
                            "name": "web",
                            "image": "registry.local/web:1",
                            "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}},
                        }
                    ]
                },
            },
        },
    }


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, int(len(ordered) * q) - 1)]


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _timed(n: int, call: Any) -> list[float]:
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        answer = await call()
        samples.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, answer.text
    return samples


async def _run(layout: Layout, ports: Ports, server: str, args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    prom_url = f"http://127.0.0.1:{ports.prometheus}"
    headers = {"Authorization": f"Bearer {ADMIN}"}
    groups = max(1, args.pods // args.per_group)
    async with (
        KubeCluster(layout.kubeconfig, timeout=60.0) as kube,
        httpx.AsyncClient(base_url=server, headers=headers, timeout=60.0) as api,
        httpx.AsyncClient(base_url=prom_url, timeout=60.0) as prom,
    ):
        body = {"name": "local", "kubeconfig": layout.kubeconfig.read_text(), "labels": {"idc": "a"}}
        assert (await api.put("/api/v1/clusters/local", json=body)).status_code in (200, 201)
        assert (await api.post("/api/v1/systems", json={"name": SYSTEM})).status_code == 201
        app = {"name": "web", "repository": "registry.local/web"}
        assert (await api.post(f"/api/v1/systems/{SYSTEM}/apps", json=app)).status_code == 201
        for g in range(groups):
            made = await api.post(
                f"/api/v1/systems/{SYSTEM}/apps/web/groups",
                json={"name": f"g{g}", "environment": "prod", "cluster": "local"},
            )
            assert made.status_code == 201, made.text
        await kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": SYSTEM}})
        started = time.monotonic()
        for g in range(groups):
            await kube.apply(_deployment(f"g{g}", args.per_group))
        wanted = groups * args.per_group
        names = "|".join(m.source for m in METRICS.values())
        query = f'count(count by (pod, __name__) ({{namespace="{SYSTEM}",__name__=~"{names}"}}))'
        while True:
            found = (await prom.get("/api/v1/query", params={"query": query})).json()["data"]["result"]
            have = int(float(found[0]["value"][1])) if found else 0
            if have >= wanted * len(METRICS):
                break
            if time.monotonic() - started > args.timeout:
                raise SystemExit(f"only {have} of {wanted * len(METRICS)} series after {args.timeout}s")
            await asyncio.sleep(2.0)
        out["series_ready_s"] = time.monotonic() - started
        await asyncio.sleep(70)  # a full rate window and the roll-ups
        tsdb = (await prom.get("/api/v1/status/tsdb")).json()["data"]
        out["series"] = tsdb["headStats"]["numSeries"]
        pid = processes.find(layout.pid_file("prometheus"), marker=str(layout.root))
        assert pid is not None
        cpu0, t0 = _cpu_seconds(pid.pid), time.monotonic()
        await asyncio.sleep(60)
        out["prom_cpu"] = (_cpu_seconds(pid.pid) - cpu0) / (time.monotonic() - t0)
        out["prom_rss_mib"] = processes.rss_bytes(pid.pid) / 2**20

        path = f"/api/v1/systems/{SYSTEM}/apps/web/groups/g0/metrics"
        params = {"metric": "cpu", "level": "instance", "range": "1h", "step": "30s"}
        chart = (await api.get(path, params=params)).json()
        promql = chart["query"]
        assert chart["series"], chart

        async def through_dockyard() -> httpx.Response:
            return await api.get(path, params=params)

        async def straight() -> httpx.Response:
            end = time.time()
            return await prom.get(
                "/api/v1/query_range", params={"query": promql, "start": end - 3600, "end": end, "step": 30}
            )

        dockyard = await _timed(args.requests, through_dockyard)
        direct = await _timed(args.requests, straight)
        out["dockyard"] = (statistics.median(dockyard), _pct(dockyard, 0.99))
        out["direct"] = (statistics.median(direct), _pct(direct, 0.99))
        # An instant query's point carries the query's time: the newest sample's own is timestamp().
        recorded = METRICS["cpu"].recorded("group")
        newest = f'max(timestamp({recorded}{{system="{SYSTEM}",app="web",group="g0"}}))'
        found = (await prom.get("/api/v1/query", params={"query": newest})).json()["data"]["result"]
        out["newest_age_s"] = time.time() - float(found[0]["value"][1])
        out["instances"], out["groups"] = wanted, groups
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--pods", type=int, default=2000)
    parser.add_argument("--per-group", type=int, default=20)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=900.0)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="dockyard-metrics-bench-"))
    layout, ports = Layout(root / "sandbox"), Ports.pick_free()
    server = None
    try:
        cluster.up(layout, ports=ports, topology=default_topology(args.nodes))
        port = Ports.pick_free().apiserver
        env = {
            **os.environ,
            "DOCKYARD_DATABASE_URL": f"sqlite+aiosqlite:///{root / 'd.db'}",
            "DOCKYARD_ADMIN_TOKEN": ADMIN,
            "DOCKYARD_STATE_DIR": str(root / "state"),
            "DOCKYARD_PROMETHEUS_URL": f"http://127.0.0.1:{ports.prometheus}",
            "DOCKYARD_METRICS_TOKEN": SCRAPE,
            "DOCKYARD_EXECUTOR": "false",
        }
        log = (root / "server.log").open("wb")
        dockyard = shutil.which("dockyard") or str(Path(".venv/bin/dockyard").absolute())
        server = subprocess.Popen([dockyard, "server", "--port", str(port)], env=env, stdout=log, stderr=log)
        url = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        monitoring.register_dockyard(layout, address=f"127.0.0.1:{port}", token=SCRAPE)
        out = asyncio.run(_run(layout, ports, url, args))
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        cluster.down(layout)
        shutil.rmtree(root, ignore_errors=True)
    print(f"metrics at scale on {platform.node()} ({os.cpu_count()} cores), {args.nodes} KWOK nodes:\n")
    print("| measure | value |\n|---|---|")
    print(f"| instances (groups of {args.per_group}) | {out['instances']} ({out['groups']}) |")
    print(f"| every instance's 13 series in Prometheus, from the Deployments' apply | {out['series_ready_s']:.1f} s |")
    print(f"| Prometheus head series | {out['series']} |")
    print(f"| Prometheus RSS | {out['prom_rss_mib']:.0f} MiB |")
    print(f"| Prometheus CPU (share of one core, 60 s) | {out['prom_cpu']:.2f} |")
    d, s = out["dockyard"], out["direct"]
    print(f"| group chart (1 h, 30 s step, per instance) through Dockyard, p50 / p99 | {d[0]:.1f} / {d[1]:.1f} ms |")
    print(f"| the same PromQL straight to Prometheus, p50 / p99 | {s[0]:.1f} / {s[1]:.1f} ms |")
    print(f"| Dockyard adds, p50 / p99 | {d[0] - s[0]:.1f} / {d[1] - s[1]:.1f} ms |")
    print(f"| age of the group total's newest point | {out['newest_age_s']:.1f} s |")


if __name__ == "__main__":
    main()
