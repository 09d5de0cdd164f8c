"""Metrics end to end: KWOK instances with set rates → the sandbox's Prometheus (which scrapes KWOK's
fake cAdvisor and this server's /metrics with its scrape token) → Dockyard's roll-up rules → the
metrics API; and a real container on the sandbox's real node, scraped through the apiserver. Runs
once, on SQLite (the database is not the subject)."""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dockyard.adapters.kube.client import KubeCluster
from dockyard.domain.metrics import LEVEL_LABELS, LEVELS, METRICS
from dockyard.sandbox import monitoring
from tests.integration.harness import cli
from tests.integration.harness.client import create, create_group, register_cluster
from tests.integration.harness.kube import condition
from tests.integration.harness.realnodes import RealNodes
from tests.integration.harness.sandboxes import Sandbox
from tests.integration.harness.servers import ServerProcess, process_env, server_process
from tests.integration.harness.tokens import ADMIN, user_with_token
from tests.integration.harness.waiting import Not, eventually

pytestmark = pytest.mark.integration
SCRAPE_TOKEN = "dym_" + "t" * 40
IDC = "idc-m"
# Each instance's set rates (annotations at creation).
RATES: dict[str, dict[str, str]] = {
    "p1": {
        "kwok.x-k8s.io/usage-cpu": "250m",
        "metrics.dockyard.io/memory-rss": "100Mi",
        "metrics.dockyard.io/receive-bytes": "5000",
        "metrics.dockyard.io/transmit-packets-dropped": "3",
    },
    "p2": {"kwok.x-k8s.io/usage-cpu": "500m", "metrics.dockyard.io/memory-rss": "50Mi"},
    "g1": {"metrics.dockyard.io/receive-bytes": "7000"},
    "a1": {},
}
PLACES = {"p1": ("web", "prod"), "p2": ("web", "prod"), "g1": ("web", "gray"), "a1": ("api", "prod")}


@pytest.fixture
def server(sandbox: Sandbox, database_url: str, tmp_path: Path) -> Iterator[ServerProcess]:
    env = process_env(
        database_url,
        tmp_path,
        DOCKYARD_PROMETHEUS_URL=prometheus_url(sandbox),
        DOCKYARD_METRICS_TOKEN=SCRAPE_TOKEN,
        DOCKYARD_EXECUTOR="false",
    )
    with server_process(env, tmp_path / "server.log") as process:
        monitoring.register_dockyard(sandbox.layout, address=f"127.0.0.1:{process.port}", token=SCRAPE_TOKEN)
        try:
            yield process
        finally:
            monitoring.unregister_dockyard(sandbox.layout)


def prometheus_url(sandbox: Sandbox) -> str:
    return f"http://127.0.0.1:{sandbox.ports.prometheus}"


async def promql(http: httpx.AsyncClient, query: str, at: float) -> list[dict[str, Any]]:
    answer = await http.get("/api/v1/query", params={"query": query, "time": f"{at:.3f}"})
    assert answer.status_code == 200, answer.text
    result: list[dict[str, Any]] = answer.json()["data"]["result"]
    return result


def _pod(system: str, name: str) -> dict[str, Any]:
    app, group = PLACES[name]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": system,
            "labels": {"dockyard.io/app": app, "dockyard.io/group": group, "dockyard.io/version": "1"},
            "annotations": RATES[name],
        },
        "spec": {"containers": [{"name": app, "image": "registry.local/shop/web:1"}]},
    }


async def test_instances_are_measured_and_rolled_up(sandbox: Sandbox, server: ServerProcess, kube: KubeCluster) -> None:
    system = f"m{uuid.uuid4().hex[:8]}"
    async with (
        httpx.AsyncClient(base_url=server.url, headers=ADMIN, timeout=30.0) as api,
        httpx.AsyncClient(base_url=prometheus_url(sandbox), timeout=30.0) as prom,
    ):
        async with httpx.AsyncClient(base_url=server.url) as anonymous:
            assert (await anonymous.get("/metrics")).status_code == 401
        await register_cluster(api, sandbox, labels={"idc": IDC})
        await create_group(api, system, app="web", group="prod")
        base = f"/api/v1/systems/{system}"
        await create(
            api,
            (f"{base}/apps/web/groups", {"name": "gray", "environment": "prod", "cluster": "local"}),
            (f"{base}/apps/web/groups", {"name": "empty", "environment": "prod", "cluster": "local"}),
            (f"{base}/apps", {"name": "api", "repository": "registry.local/shop/api"}),
            (f"{base}/apps/api/groups", {"name": "prod", "environment": "prod", "cluster": "local"}),
        )
        await kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": system}})
        try:
            for name in PLACES:
                await kube.apply(_pod(system, name))
            ready_at = await _all_ready(kube, system)

            # The per-instance series are in Prometheus within 30 s of Ready, for every instance.
            async def every_series() -> float | Not:
                found = await promql(
                    prom, f'count by (pod, __name__) ({{namespace="{system}",job="kubelet"}})', time.time()
                )
                seen = {(r["metric"]["pod"], r["metric"]["__name__"]) for r in found}
                missing = {(p, m.source) for p in PLACES for m in METRICS.values()} - seen
                return time.monotonic() if not missing else Not(sorted(missing)[:5])

            arrived = await eventually(every_series, "the per-instance series of every instance", timeout=30.0)
            assert arrived - ready_at <= 30.0

            # Set rates come out as set (rates by the roll-up rules, gauges as they are).
            def instance(metric: str, pod: str) -> str:
                return f'{METRICS[metric].recorded("instance")}{{system="{system}",pod="{pod}"}}'

            checks = {
                ("network_receive_bytes", "p1"): 5000.0,
                ("network_receive_bytes", "p2"): 1024.0,  # the default
                ("network_receive_bytes", "g1"): 7000.0,
                ("network_transmit_packets_dropped", "p1"): 3.0,
                ("network_transmit_packets_dropped", "p2"): 0.0,
                ("cpu", "p1"): 0.25,
                ("cpu", "p2"): 0.5,
                ("memory_rss", "p1"): 100 * 2**20,
                ("memory_rss", "p2"): 50 * 2**20,
            }

            # A rate over 1 m is whole once the series is a minute old (younger, Prometheus extrapolates less).
            async def rates_as_set() -> bool | Not:
                now = time.time()
                off = {}
                for (metric, pod), wanted in checks.items():
                    got = await promql(prom, instance(metric, pod), now)
                    value = float(got[0]["value"][1]) if len(got) == 1 else None
                    if value is None or value != pytest.approx(wanted, rel=0.03, abs=1e-9):
                        off[(metric, pod)] = value
                    else:
                        labels = got[0]["metric"]
                        assert (labels["cluster"], labels["idc"], labels["app"]) == ("local", IDC, PLACES[pod][0])
                return not off or Not(off)

            await eventually(rates_as_set, "each instance's set rates, rolled up per instance", timeout=120.0)

            # Each level is the sum of the one below, at the same timestamp, for every metric.
            at = time.time() - 3.0
            for metric in METRICS.values():
                await _levels_add_up(prom, metric.recorded, at)

            # The API answers the same values, per instance, group, application, system and IDC.
            group = await api.get(f"{base}/apps/web/groups/prod/metrics", params={"metric": "network_receive_bytes"})
            assert group.status_code == 200, group.text
            chart = group.json()
            assert chart["level"] == "instance"
            assert chart["empty"] is None
            by_pod = {s["labels"]["pod"]: s["points"][-1][1] for s in chart["series"]}
            assert by_pod == pytest.approx({"p1": 5000.0, "p2": 1024.0}, rel=0.03)
            total = (
                await api.get(
                    f"{base}/apps/web/groups/prod/metrics",
                    params={"metric": "network_receive_bytes", "level": "group", "range": "2m"},
                )
            ).json()
            assert len(total["series"]) == 1
            assert total["range_seconds"] == 120
            assert total["series"][0]["points"][-1][1] == pytest.approx(6024.0, rel=0.03)
            app = (await api.get(f"{base}/apps/web/metrics", params={"metric": "network_receive_bytes"})).json()
            assert {s["labels"]["group"]: s["points"][-1][1] for s in app["series"]} == pytest.approx(
                {"prod": 6024.0, "gray": 7000.0}, rel=0.03
            )
            idc = (await api.get(f"{base}/metrics", params={"metric": "memory_rss", "level": "idc"})).json()
            assert [s["labels"] for s in idc["series"]] == [{"idc": IDC}]
            apps = (await api.get(f"{base}/metrics", params={"metric": "cpu"})).json()
            assert {s["labels"]["app"] for s in apps["series"]} == {"web", "api"}

            # An empty chart says why; bad parameters are named; no PromQL from the caller.
            empty = (await api.get(f"{base}/apps/web/groups/empty/metrics")).json()
            assert empty["series"] == []
            assert empty["empty"]["code"] == "series_absent"
            bad = await api.get(f"{base}/metrics", params={"metric": 'cpu"} or vector(1)'})
            assert bad.status_code == 422
            assert bad.json()["details"]["field"] == "metric"

            # The CLI: top lists the group's instances with their memory side by side; metrics over time;
            # an empty group's reason on one line, exit 1.
            cli_env = {"DOCKYARD_SERVER": server.url, "DOCKYARD_TOKEN": ADMIN["Authorization"].split()[1]}
            top = await asyncio.to_thread(cli.run, cli_env, "top", f"{system}/web/prod")
            lines = top.stdout.splitlines()
            assert lines[0].split() == ["INSTANCE", "CPU", "RSS", "CACHE", "WORKING", "SET", "NET", "IN", "NET", "OUT"]
            assert [line.split()[0] for line in lines[1:]] == ["p1", "p2"]
            assert "100.0MiB" in lines[1]
            over = await asyncio.to_thread(
                cli.run, cli_env, "metrics", f"{system}/web", "--metric", "network_receive_bytes", "--since", "5m"
            )
            assert "network_receive_bytes (bytes/s) over 5m, by group" in over.stdout
            nothing = await asyncio.to_thread(cli.run, cli_env, "top", f"{system}/web/empty", ok=False)
            assert nothing.returncode == 1
            assert nothing.stderr.startswith(f"error: no data for {system}/web/empty: dockyard_instance_info has no")

            # Another system's viewer sees none of it (404); a viewer of this one does.
            other = f"o{uuid.uuid4().hex[:8]}"
            await create(api, ("/api/v1/systems", {"name": other}))
            stranger = await user_with_token(api, f"s{uuid.uuid4().hex[:6]}")
            name = (await api.get("/api/v1/users/me", headers=stranger)).json()["name"]
            granted = await api.put(f"/api/v1/systems/{other}/members/{name}", json={"role": "viewer"})
            assert granted.status_code in (200, 201), granted.text
            for path in (f"{base}/metrics", f"{base}/apps/web/metrics", f"{base}/apps/web/groups/prod/metrics"):
                assert (await api.get(path, headers=stranger)).status_code == 404
            granted = await api.put(f"{base}/members/{name}", json={"role": "viewer"})
            assert (await api.get(f"{base}/apps/web/groups/prod/metrics", headers=stranger)).status_code == 200
        finally:
            await kube.delete("v1", "Namespace", system)


async def _all_ready(kube: KubeCluster, namespace: str) -> float:
    async def ready() -> float | Not:
        pods = await kube.list("v1", "Pod", namespace=namespace)
        done = [p for p in pods if condition(p)]
        return time.monotonic() if len(done) == len(PLACES) else Not([p["metadata"]["name"] for p in done])

    return await eventually(ready, "every instance Ready", timeout=60.0)


async def _levels_add_up(prom: httpx.AsyncClient, recorded: Any, at: float) -> None:
    for below, level in itertools.pairwise(LEVELS):
        upper = await promql(prom, recorded(level), at)
        lower = await promql(prom, recorded(below), at)
        assert upper, recorded(level)
        keys = LEVEL_LABELS[level]
        for series in upper:
            labels = series["metric"]
            parts = [float(s["value"][1]) for s in lower if all(s["metric"].get(k) == labels.get(k) for k in keys)]
            assert float(series["value"][1]) == pytest.approx(sum(parts), rel=1e-9, abs=1e-9), (
                recorded(level),
                labels,
            )


async def test_a_real_node_instance_has_the_same_series(
    sandbox: Sandbox, server: ServerProcess, real_nodes: RealNodes, kube: KubeCluster
) -> None:
    """The real kubelet's cAdvisor, scraped through the apiserver's node proxy, gives a real instance
    the same series as a fake one, and the same roll-up rows."""
    system = f"r{uuid.uuid4().hex[:8]}"
    node = real_nodes.names[0]
    async with (
        httpx.AsyncClient(base_url=server.url, headers=ADMIN, timeout=30.0) as api,
        httpx.AsyncClient(base_url=prometheus_url(sandbox), timeout=30.0) as prom,
    ):
        await register_cluster(api, sandbox, labels={"idc": IDC})
        await create_group(api, system, app="web", group="prod")
        await kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": system}})
        try:
            pod = _pod(system, "p1")
            pod["spec"] = {
                "nodeSelector": {"kubernetes.io/hostname": node},
                "tolerations": [{"key": "dockyard.io/pool", "value": real_nodes.pool, "effect": "NoSchedule"}],
                "terminationGracePeriodSeconds": 1,
                "containers": [{"name": "web", "image": real_nodes.web_image, "command": ["sleep", "3600"]}],
            }
            await kube.apply(pod)

            async def ready() -> float | Not:
                got = await kube.get("v1", "Pod", "p1", namespace=system)
                return time.monotonic() if condition(got) else Not(got.get("status", {}).get("phase"))

            ready_at = await eventually(ready, "the real instance Ready", timeout=120.0)

            async def every_series() -> float | Not:
                found = await promql(
                    prom,
                    f'count by (__name__) ({{namespace="{system}",pod="p1",job="kubelet",'
                    f'metrics_path="/metrics/cadvisor",node="{node}"}})',
                    time.time(),
                )
                missing = {m.source for m in METRICS.values()} - {r["metric"]["__name__"] for r in found}
                return time.monotonic() if not missing else Not(sorted(missing))

            arrived = await eventually(every_series, "the real instance's series", timeout=30.0)
            assert arrived - ready_at <= 30.0
            network = await promql(
                prom, f'container_network_receive_bytes_total{{namespace="{system}",pod="p1"}}', time.time()
            )
            assert {r["metric"].get("interface") for r in network} >= {"eth0"}
            assert all(r["metric"].get("container", "") == "" for r in network)  # the pod's sandbox

            async def rolled_up() -> dict[str, Any] | Not:
                got = await promql(prom, f'instance:container_memory_rss:sum{{system="{system}"}}', time.time())
                return got[0]["metric"] if got else Not(got)

            labels = await eventually(rolled_up, "the real instance's roll-up row", timeout=30.0)
            assert (labels["pod"], labels["app"], labels["group"], labels["idc"]) == ("p1", "web", "prod", IDC)
        finally:
            await kube.delete("v1", "Namespace", system)


KWOK_INSTANCES = 1000
SPREAD = (("web", "prod"), ("web", "gray"), ("api", "prod"))  # where the fake instances go, in turn


async def test_a_thousand_fake_instances_and_a_real_one_are_measured_and_add_up(
    sandbox: Sandbox, server: ServerProcess, real_nodes: RealNodes, kube: KubeCluster
) -> None:
    """1,000 KWOK instances (bound to the fake nodes in turn) and one real container on the real node:
    every one has every per-instance series within 30 s of all being Ready, and every level of every
    metric is the sum of the level below at the same timestamp."""
    system = f"k{uuid.uuid4().hex[:8]}"
    async with (
        httpx.AsyncClient(base_url=server.url, headers=ADMIN, timeout=60.0) as api,
        httpx.AsyncClient(base_url=prometheus_url(sandbox), timeout=60.0) as prom,
    ):
        await register_cluster(api, sandbox, labels={"idc": IDC})
        await create_group(api, system, app="web", group="prod")
        base = f"/api/v1/systems/{system}"
        await create(
            api,
            (f"{base}/apps/web/groups", {"name": "gray", "environment": "prod", "cluster": "local"}),
            (f"{base}/apps", {"name": "api", "repository": "registry.local/shop/api"}),
            (f"{base}/apps/api/groups", {"name": "prod", "environment": "prod", "cluster": "local"}),
        )
        await kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": system}})
        try:
            nodes = sorted(
                n["metadata"]["name"]
                for n in await kube.list("v1", "Node")
                if n["metadata"]["name"] not in real_nodes.names
            )
            pods = []
            for i in range(KWOK_INSTANCES):
                app, group = SPREAD[i % len(SPREAD)]
                labels = {"dockyard.io/app": app, "dockyard.io/group": group, "dockyard.io/version": "1"}
                pods.append(
                    {
                        "apiVersion": "v1",
                        "kind": "Pod",
                        "metadata": {"name": f"f{i:04d}", "namespace": system, "labels": labels,
                                     "annotations": {"metrics.dockyard.io/receive-bytes": str(1000 + i)}},
                        "spec": {"nodeName": nodes[i % len(nodes)], "terminationGracePeriodSeconds": 0,
                                 "containers": [{"name": app, "image": "registry.local/shop/web:1"}]},
                    }
                )  # fmt: skip
            real = _pod(system, "p1")
            real["metadata"]["name"] = "real"
            real["spec"] = {
                "nodeSelector": {"kubernetes.io/hostname": real_nodes.names[0]},
                "tolerations": [{"key": "dockyard.io/pool", "value": real_nodes.pool, "effect": "NoSchedule"}],
                "terminationGracePeriodSeconds": 1,
                "containers": [{"name": "web", "image": real_nodes.web_image, "command": ["sleep", "3600"]}],
            }
            await kube.apply(real)
            await kube.create_many(pods, concurrency=16)
            wanted = {p["metadata"]["name"] for p in pods} | {"real"}

            async def all_ready() -> float | Not:
                listed = await kube.list("v1", "Pod", namespace=system)
                done = {p["metadata"]["name"] for p in listed if condition(p)}
                return time.monotonic() if done >= wanted else Not(f"{len(done & wanted)} of {len(wanted)} Ready")

            ready_at = await eventually(all_ready, "every instance Ready", timeout=300.0, interval=2.0)

            async def every_series() -> float | Not:
                selector = f'namespace="{system}",job="kubelet",metrics_path="/metrics/cadvisor"'
                found = await promql(prom, f"count by (pod, __name__) ({{{selector}}})", time.time())
                seen = {(r["metric"]["pod"], r["metric"]["__name__"]) for r in found}
                missing = {(p, m.source) for p in wanted for m in METRICS.values()} - seen
                if not missing:
                    return time.monotonic()
                # Say why: a node's scrape failing or slow (its targets' up and scrape duration).
                scrapes = await promql(prom, 'up{job="kubelet",metrics_path="/metrics/cadvisor"} == 0 or '
                                       'scrape_duration_seconds{job="kubelet",metrics_path="/metrics/cadvisor"} > 1',
                                       time.time())  # fmt: skip
                bad = sorted((r["metric"].get("node", "?"), r["metric"]["__name__"], r["value"][1]) for r in scrapes)
                return Not(f"{len(missing)} missing, e.g. {sorted(missing)[:3]}; nodes down or slow: {bad[:5]}")

            arrived = await eventually(every_series, "every instance's series", timeout=60.0, interval=2.0)
            print(f"\n{len(wanted)} instances: every series {arrived - ready_at:.1f} s after all were Ready")
            assert arrived - ready_at <= 30.0

            # Every instance is in the roll-up (the join table has them all), then the levels add up.
            async def joined() -> float | Not:
                rss = f'instance:container_memory_rss:sum{{system="{system}"}}'
                rows = await promql(prom, f"count({rss}) or vector(0)", time.time())
                have = int(float(rows[0]["value"][1]))
                if have != len(wanted):
                    return Not(have)
                # The evaluation that first held them all: "3 s ago" may come before it (all the
                # instances joined the table in one scrape of Dockyard), then no level has the system.
                newest = await promql(prom, f"max(timestamp({rss}))", time.time())
                return float(newest[0]["value"][1])

            at = await eventually(joined, "every instance in the roll-up", timeout=60.0, interval=2.0)
            for metric in METRICS.values():
                await _levels_add_up(prom, metric.recorded, at)
        finally:
            await kube.delete("v1", "Namespace", system)
