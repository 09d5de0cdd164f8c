"""APM queries at scale: a group of many KWOK instances emulating the request-duration histogram, its
APM table through Dockyard's API against the same PromQL sent straight to Prometheus, in one run.

    .venv/bin/python -m bench.apm --nodes 20 --pods 500 --requests 100

Starts a fresh sandbox (its Prometheus included) in a temporary directory on free ports and a Dockyard
server process on a fresh SQLite database (Prometheus scrapes it for ``dockyard_instance_info``); makes
one group of ``--pods`` instances (a Deployment the sandbox's scheduler places on the fake nodes, each
instance at 10 requests/s over three routes); waits until Dockyard's table shows them all, then times,
in interleaved rounds, for ``by=version`` and ``by=method`` (top 10 by p99 and by traffic):

- ``GET …/apm`` through Dockyard (authorization, the group's existence, two queries — requests/s by
  code, and the buckets —, p50/p90/p99 computed from the buckets, the table);
- the same two queries (the answer's ``queries``) sent straight to Prometheus, concurrently as Dockyard
  sends them (Dockyard's floor);
- what a dashboard sends instead: the traffic query and one ``histogram_quantile`` per quantile over the
  same buckets, concurrently (a Grafana panel's queries).

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
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from dockyard.adapters.kube.client import KubeCluster
from dockyard.domain import apm
from dockyard.sandbox import cluster, monitoring
from dockyard.sandbox.layout import Layout, Ports
from dockyard.sandbox.topology import default_topology

ADMIN = "dy_" + "d" * 40
SCRAPE = "dym_" + "e" * 40
SYSTEM = "bench"
GROUP = f"/api/v1/systems/{SYSTEM}/apps/web/groups/g0"


def _deployment(replicas: int) -> dict[str, Any]:
    labels = {"dockyard.io/app": "web", "dockyard.io/group": "g0"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web-g0", "namespace": SYSTEM},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "100%"}},
            "template": {
                "metadata": {
                    "labels": {**labels, "dockyard.io/version": "1"},
                    "annotations": {f"{monitoring.ANNOTATION_PREFIX}requests": "10"},
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


async def _run(layout: Layout, ports: Ports, server: str, args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    headers = {"Authorization": f"Bearer {ADMIN}"}
    async with (
        KubeCluster(layout.kubeconfig, timeout=60.0) as kube,
        httpx.AsyncClient(base_url=server, headers=headers, timeout=60.0) as api,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{ports.prometheus}", timeout=60.0) as prom,
    ):
        body = {"name": "local", "kubeconfig": layout.kubeconfig.read_text(), "labels": {"idc": "a"}}
        assert (await api.put("/api/v1/clusters/local", json=body)).status_code in (200, 201)
        assert (await api.post("/api/v1/systems", json={"name": SYSTEM})).status_code == 201
        app = {"name": "web", "repository": "registry.local/web"}
        assert (await api.post(f"/api/v1/systems/{SYSTEM}/apps", json=app)).status_code == 201
        group = {"name": "g0", "environment": "prod", "cluster": "local"}
        assert (await api.post(f"/api/v1/systems/{SYSTEM}/apps/web/groups", json=group)).status_code == 201
        await kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": SYSTEM}})
        await kube.apply(_deployment(args.pods))
        started = time.monotonic()
        want = args.pods * 10.0
        while True:
            answer = (await api.get(f"{GROUP}/apm", params={"since": "1m"})).json()
            rows = answer.get("rows") or []
            rps = rows[0]["rps"] if rows else 0.0
            if rps >= want * 0.97:
                break
            if time.monotonic() - started > args.timeout:
                print(f"only {rps:.0f} of {want:.0f} requests/s after {args.timeout:.0f} s", flush=True)
                break
            print(f"  {rps:.0f} of {want:.0f} requests/s ({time.monotonic() - started:.0f}s)", flush=True)
            await asyncio.sleep(10.0)
        out["ready_s"] = time.monotonic() - started
        await asyncio.sleep(60)  # a full 5 m window is not needed: the queries' cost is per series and sample
        out["series"] = (await prom.get("/api/v1/status/tsdb")).json()["data"]["headStats"]["numSeries"]
        for by in ("version", "method"):
            params = {"by": by, "since": "5m", "top": "10"}
            first = (await api.get(f"{GROUP}/apm", params=params)).json()
            queries = list(first["queries"].values())
            usual = [first["queries"]["traffic"]]
            usual += [f"histogram_quantile({q:g}, {first['queries']['buckets']})" for q in apm.QUANTILES]
            out[f"rows_{by}"] = len(first["rows"])

            async def through_dockyard(params: dict[str, str] = params) -> None:
                answer = await api.get(f"{GROUP}/apm", params=params)
                assert answer.status_code == 200, answer.text

            async def straight(queries: list[str]) -> None:
                at = f"{time.time():.3f}"
                answers = await asyncio.gather(
                    *(prom.get("/api/v1/query", params={"query": q, "time": at}) for q in queries)
                )
                assert all(a.status_code == 200 for a in answers)

            async def direct(queries: list[str] = queries) -> None:
                await straight(queries)

            async def dashboard(queries: list[str] = usual) -> None:
                await straight(queries)

            samples: dict[str, list[float]] = {"dockyard": [], "direct": [], "dashboard": []}
            for round_ in range(args.requests + 5):
                for name, call in (("dockyard", through_dockyard), ("direct", direct), ("dashboard", dashboard)):
                    t0 = time.perf_counter()
                    await call()
                    if round_ >= 5:
                        samples[name].append((time.perf_counter() - t0) * 1000)
            for name, taken in samples.items():
                out[f"{by}_{name}"] = (statistics.median(taken), _pct(taken, 0.99))
    out["instances"] = args.pods
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=20)
    parser.add_argument("--pods", type=int, default=500)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="dockyard-apm-bench-"))
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
        dockyard = str(Path(sys.executable).with_name("dockyard"))  # the bench interpreter's own venv
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
    _report(out, args)


def _report(out: dict[str, Any], args: argparse.Namespace) -> None:
    print(f"APM at scale on {platform.node()} ({os.cpu_count()} cores), {args.nodes} KWOK nodes:\n")
    print("| measure | value |\n|---|---|")
    print(f"| instances, all counted after | {out['instances']}, {out['ready_s']:.0f} s |")
    print(f"| Prometheus head series | {out['series']} |")
    for by in ("version", "method"):
        d, s, u = out[f"{by}_dockyard"], out[f"{by}_direct"], out[f"{by}_dashboard"]
        print(f"| by={by} ({out[f'rows_{by}']} rows), 5 m window: Dockyard p50 / p99 | {d[0]:.0f} / {d[1]:.0f} ms |")
        print(f"| Dockyard's two queries straight to Prometheus p50 / p99 | {s[0]:.0f} / {s[1]:.0f} ms |")
        print(f"| a dashboard's: traffic + 3 × histogram_quantile p50 / p99 | {u[0]:.0f} / {u[1]:.0f} ms |")


if __name__ == "__main__":
    main()
