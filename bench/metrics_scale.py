"""Metrics at scale: Prometheus and Dockyard with many fake nodes and instances, measured in one run.

    .venv/bin/python -m bench.metrics_scale --nodes 100 --pods 2000 --requests 200

Starts a fresh sandbox (its Prometheus included) in a temporary directory on free ports and a Dockyard
server process on a fresh SQLite database, registers the sandbox and has Prometheus scrape the server;
then creates ``--pods`` instances in Deployments of ``--per-group`` in one system (the real scheduler
places them, KWOK runs them and serves their cAdvisor series; with ``--bound``, bare pods with the same
labels created already bound to the nodes in turn, so that 30,000 pods do not wait for the scheduler),
and measures:

  1. how long until every instance has its 13 per-instance series in Prometheus, and the series count
     (Prometheus' TSDB head);
  2. Prometheus' RSS and CPU (share of one core over 60 s);
  3. a group chart (per instance, the last hour) through Dockyard's API against the same PromQL sent
     straight to Prometheus' ``query_range``: p50/p99 of each and the difference;
  4. the age of the newest point of the group's total (its recorded series' newest sample), and how
     long Prometheus' scrapes of KWOK's fake nodes take (the newest point cannot be younger).

With ``--baseline-src`` a second Dockyard server runs the source found there (e.g. the commit before a
change, ``git archive``-ed) on the same database, and the chart is read from both servers and straight
from Prometheus in interleaved rounds: before and after in the same run.

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


def _pod(i: int, group: str, node: str) -> dict[str, Any]:
    labels = {"dockyard.io/app": "web", "dockyard.io/group": group, "dockyard.io/version": "1"}
    template = _deployment(group, 1)["spec"]["template"]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"web-{group}-{i:05d}",
            "namespace": SYSTEM,
            "labels": labels,
            "annotations": template["metadata"]["annotations"],
        },
        "spec": {**template["spec"], "nodeName": node, "terminationGracePeriodSeconds": 0},
    }


async def _create_bound(kube: KubeCluster, groups: int, per_group: int) -> None:
    nodes = sorted(n["metadata"]["name"] for n in await kube.list("v1", "Node"))
    manifests = [_pod(i, f"g{i // per_group}", nodes[i % len(nodes)]) for i in range(groups * per_group)]
    started = time.monotonic()
    for chunk in range(0, len(manifests), 2000):
        await kube.create_many(manifests[chunk : chunk + 2000], concurrency=32)
        print(f"  {min(chunk + 2000, len(manifests))} pods created ({time.monotonic() - started:.0f}s)", flush=True)


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, int(len(ordered) * q) - 1)]


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _timed(n: int, calls: dict[str, Any]) -> dict[str, list[float]]:
    """Each call ``n`` times, in interleaved rounds (after 10 rounds not counted)."""
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for round_ in range(n + 10):
        for name, call in calls.items():
            started = time.perf_counter()
            answer = await call()
            took = (time.perf_counter() - started) * 1000
            assert answer.status_code == 200, answer.text
            if round_ >= 10:
                samples[name].append(took)
    return samples


async def _value(prom: httpx.AsyncClient, query: str) -> float | None:
    found = (await prom.get("/api/v1/query", params={"query": query})).json()["data"]["result"]
    return float(found[0]["value"][1]) if found else None


async def _run(
    layout: Layout, ports: Ports, server: str, baseline: str | None, args: argparse.Namespace
) -> dict[str, Any]:
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
        print(f"{groups} groups in Dockyard; creating the pods", flush=True)
        started = time.monotonic()
        if args.bound:
            await _create_bound(kube, groups, args.per_group)
        else:
            for g in range(groups):
                await kube.apply(_deployment(f"g{g}", args.per_group))
        wanted = groups * args.per_group
        created = time.monotonic()
        out["created_s"] = created - started
        names = "|".join(m.source for m in METRICS.values())
        query = f'count(count by (pod, __name__) ({{namespace="{SYSTEM}",__name__=~"{names}"}}))'
        while True:
            found = (await prom.get("/api/v1/query", params={"query": query})).json()["data"]["result"]
            have = int(float(found[0]["value"][1])) if found else 0
            if have >= wanted * len(METRICS):
                break
            if time.monotonic() - created > args.timeout:  # --timeout counts from the last pod's creation
                out["series_ready_s"] = None
                out["series_have"] = have
                print(f"only {have} of {wanted * len(METRICS)} series after {args.timeout}s", flush=True)
                break
            print(f"  {have} of {wanted * len(METRICS)} series ({time.monotonic() - started:.0f}s)", flush=True)
            await asyncio.sleep(10.0)
        out.setdefault("series_ready_s", time.monotonic() - started)
        print(f"series: {out}", flush=True)
        await asyncio.sleep(70)  # a full rate window and the roll-ups
        tsdb = (await prom.get("/api/v1/status/tsdb")).json()["data"]
        out["series"] = tsdb["headStats"]["numSeries"]
        pid = processes.find(layout.pid_file("prometheus"), marker=str(layout.root))
        assert pid is not None
        kwok = processes.find(layout.pid_file("kwok"), marker=str(layout.root))
        cpu0, t0 = _cpu_seconds(pid.pid), time.monotonic()
        kwok0 = _cpu_seconds(kwok.pid) if kwok else 0.0
        await asyncio.sleep(60)
        out["prom_cpu"] = (_cpu_seconds(pid.pid) - cpu0) / (time.monotonic() - t0)
        out["kwok_cpu"] = (_cpu_seconds(kwok.pid) - kwok0) / (time.monotonic() - t0) if kwok else None
        out["prom_rss_mib"] = processes.rss_bytes(pid.pid) / 2**20
        job = 'job="kubelet",metrics_path="/metrics/cadvisor"'
        out["scrape_avg_s"] = await _value(prom, f"avg(avg_over_time(scrape_duration_seconds{{{job}}}[1m]))")
        out["scrape_max_s"] = await _value(prom, f"max(max_over_time(scrape_duration_seconds{{{job}}}[1m]))")
        out["targets_up"] = await _value(prom, f"sum(up{{{job}}})")
        out["targets"] = await _value(prom, f"count(up{{{job}}})")
        print(f"resources: {out}", flush=True)

        path = f"/api/v1/systems/{SYSTEM}/apps/web/groups/g0/metrics"
        params = {"metric": "cpu", "level": "instance", "range": "1h", "step": "30s"}
        chart = (await api.get(path, params=params)).json()
        promql = chart["query"]
        if not chart["series"]:  # measured all the same (an empty chart is what a console would poll)
            print(f"the group chart is empty: {chart['empty']}", flush=True)

        async def through_dockyard() -> httpx.Response:
            return await api.get(path, params=params)

        async def straight() -> httpx.Response:
            end = time.time()
            return await prom.get(
                "/api/v1/query_range", params={"query": promql, "start": end - 3600, "end": end, "step": 30}
            )

        calls: dict[str, Any] = {"dockyard": through_dockyard, "direct": straight}
        if baseline is not None:
            before = httpx.AsyncClient(base_url=baseline, headers=headers, timeout=60.0)

            async def through_baseline() -> httpx.Response:
                return await before.get(path, params=params)

            calls["baseline"] = through_baseline
        try:
            samples = await _timed(args.requests, calls)
        finally:
            if baseline is not None:
                await before.aclose()
        for name, taken in samples.items():
            out[name] = (statistics.median(taken), _pct(taken, 0.99))
        # An instant query's point carries the query's time: the newest sample's own is timestamp().
        recorded = METRICS["cpu"].recorded("group")
        newest = f'max(timestamp({recorded}{{system="{SYSTEM}",app="web",group="g0"}}))'
        newest_at = await _value(prom, newest)
        out["newest_age_s"] = time.time() - newest_at if newest_at else None
        raw = f'max(timestamp(container_cpu_usage_seconds_total{{namespace="{SYSTEM}",pod=~"web-g0-.*"}}))'
        raw_at = await _value(prom, raw)
        out["newest_raw_age_s"] = time.time() - raw_at if raw_at else None
        out["instances"], out["groups"] = wanted, groups
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--pods", type=int, default=2000)
    parser.add_argument("--per-group", type=int, default=20)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--bound", action="store_true", help="bare pods bound to the nodes, not Deployments")
    parser.add_argument("--baseline-src", help="a Dockyard source tree (its src/) measured in the same run")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="dockyard-metrics-bench-"))
    layout, ports = Layout(root / "sandbox"), Ports.pick_free()
    server = baseline = None
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
        before_url = None
        if args.baseline_src:
            before_port = Ports.pick_free().apiserver
            before_env = {**env, "PYTHONPATH": f"{args.baseline_src}:{Path.cwd()}"}
            before_log = (root / "baseline.log").open("wb")
            baseline = subprocess.Popen(
                [dockyard, "server", "--port", str(before_port)], env=before_env, stdout=before_log, stderr=before_log
            )
            before_url = f"http://127.0.0.1:{before_port}"
            for _ in range(300):
                try:
                    if httpx.get(f"{before_url}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
        out = asyncio.run(_run(layout, ports, url, before_url, args))
    finally:
        for process in (server, baseline):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)
        cluster.down(layout)
        shutil.rmtree(root, ignore_errors=True)
    _report(out, args)


def _report(out: dict[str, Any], args: argparse.Namespace) -> None:
    print(f"metrics at scale on {platform.node()} ({os.cpu_count()} cores), {args.nodes} KWOK nodes:\n")
    print("| measure | value |\n|---|---|")
    made = f"{out['instances']} ({out['groups']}), {out['created_s']:.0f} s"
    print(f"| instances (groups of {args.per_group}), created in | {made} |")
    ready = out["series_ready_s"]
    ready_text = (
        f"{ready:.1f} s"
        if ready is not None
        else f"not reached: {out['series_have']} series after {args.timeout:.0f} s"
    )
    print(f"| every instance's 13 series in Prometheus, from the pods' creation | {ready_text} |")
    print(f"| Prometheus head series | {out['series']} |")
    print(f"| Prometheus RSS | {out['prom_rss_mib']:.0f} MiB |")
    print(f"| Prometheus CPU (share of one core, 60 s) | {out['prom_cpu']:.2f} |")
    if out["kwok_cpu"] is not None:
        print(f"| KWOK CPU (share of one core, same 60 s) | {out['kwok_cpu']:.2f} |")
    print(f"| fake nodes' cAdvisor targets up / all | {out['targets_up']} / {out['targets']} |")
    print(f"| their scrape duration, mean / max over 1 min | {out['scrape_avg_s']} / {out['scrape_max_s']} s |")
    d, s = out["dockyard"], out["direct"]
    print(f"| group chart (1 h, 30 s step, per instance) through Dockyard, p50 / p99 | {d[0]:.1f} / {d[1]:.1f} ms |")
    if "baseline" in out:
        b = out["baseline"]
        print(f"| the same through the baseline's Dockyard, p50 / p99 | {b[0]:.1f} / {b[1]:.1f} ms |")
    print(f"| the same PromQL straight to Prometheus, p50 / p99 | {s[0]:.1f} / {s[1]:.1f} ms |")
    print(f"| Dockyard adds, p50 / p99 | {d[0] - s[0]:.1f} / {d[1] - s[1]:.1f} ms |")
    if "baseline" in out:
        print(f"| the baseline added, p50 / p99 | {b[0] - s[0]:.1f} / {b[1] - s[1]:.1f} ms |")
    for key, what in (
        ("newest_age_s", "the group total's newest point"),
        ("newest_raw_age_s", "a pod's newest raw sample"),
    ):
        age = out[key]
        print(f"| age of {what} | {f'{age:.1f} s' if age is not None else 'none'} |")


if __name__ == "__main__":
    main()
