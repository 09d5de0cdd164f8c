"""APM of real requests: the sample service (examples/sample-service, Go) committed to a git repository,
built by Dockyard's build pipeline, deployed on the sandbox's real node with a ``metrics`` port; the
sandbox's Prometheus finds its instances through Dockyard's service discovery (``/metrics/targets``,
the ``apps`` job) and scrapes their request histogram; a load generator in this test sends 50
requests/s to the instances' pod IPs and measures its own latencies.

Dockyard's group p99 is Prometheus' ``histogram_quantile`` over the same histogram at the same time, and
within one bucket of the load generator's own p99. Runs once, on SQLite (the database is not the
subject)."""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from dockyard.domain import apm
from dockyard.sandbox import monitoring
from tests.integration.harness import sample
from tests.integration.harness.client import create_group, operation_ended, register_cluster
from tests.integration.harness.realnodes import RealNodes
from tests.integration.harness.sandboxes import Sandbox
from tests.integration.harness.servers import ServerProcess, process_env, server_process
from tests.integration.harness.tokens import ADMIN
from tests.integration.harness.waiting import Not, eventually

pytestmark = pytest.mark.integration
SCRAPE_TOKEN = "dym_" + "r" * 40
RATE = 50.0  # requests per second, all instances together
WINDOW = 30  # seconds: Dockyard's `since`, Prometheus' rate window, the load generator's own
# 60 % GET /api/orders, 30 % POST /api/orders, 10 % GET /healthz (as KWOK's emulation)
PLAN = [("GET", "/api/orders")] * 6 + [("POST", "/api/orders")] * 3 + [("GET", "/healthz")]
# 3 % slow: ~40 slow requests of 1,500 in the window, so the p99 (the 15th slowest) is always a slow one.
SERVICE_ENV = {"LATENCY_MS": "20", "SLOW_RATIO": "0.03", "SLOW_MS": "170", "ERROR_RATIO": "0.01"}


@dataclass
class Sources:
    server: ServerProcess
    root: Path


@pytest.fixture
def served(sandbox: Sandbox, database_url: str, tmp_path: Path, run_dir: Path) -> Iterator[Sources]:
    root = tmp_path / "sources"
    root.mkdir()
    env = process_env(
        database_url,
        tmp_path,
        DOCKYARD_PROMETHEUS_URL=f"http://127.0.0.1:{sandbox.ports.prometheus}",
        DOCKYARD_METRICS_TOKEN=SCRAPE_TOKEN,
        DOCKYARD_BUILD_DIR=str(run_dir / "builds"),  # shared by the tests: the base image is pulled once
        DOCKYARD_BUILD_SOURCE_ROOTS=str(root),
    )
    with server_process(env, tmp_path / "server.log") as process:
        monitoring.register_dockyard(sandbox.layout, address=f"127.0.0.1:{process.port}", token=SCRAPE_TOKEN)
        try:
            yield Sources(process, root)
        finally:
            monitoring.unregister_dockyard(sandbox.layout)


@dataclass
class Load:
    """What the load generator saw: (wall time the answer came, seconds it took, status; 0: no answer)."""

    samples: list[tuple[float, float, int]] = field(default_factory=list)

    def window(self, end: float, seconds: float = WINDOW) -> list[tuple[float, float, int]]:
        return [s for s in self.samples if end - seconds < s[0] <= end]


@contextlib.asynccontextmanager
async def load(hosts: list[str], rate: float = RATE) -> AsyncIterator[Load]:
    """``rate`` requests per second on a fixed schedule (never waiting for answers), in turn to each of
    ``hosts`` (port 8080) along :data:`PLAN`, while the block runs."""
    seen = Load()
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)

    async def one(client: httpx.AsyncClient, method: str, url: str) -> None:
        started = time.perf_counter()
        try:
            status = (await client.request(method, url)).status_code
        except httpx.HTTPError:
            status = 0
        seen.samples.append((time.time(), time.perf_counter() - started, status))

    async def run(client: httpx.AsyncClient) -> None:
        pending: set[asyncio.Task[None]] = set()
        start = time.monotonic()
        for i in range(10**9):
            await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
            method, route = PLAN[i % len(PLAN)]
            task = asyncio.create_task(one(client, method, f"http://{hosts[i % len(hosts)]}:8080{route}"))
            pending.add(task)
            task.add_done_callback(pending.discard)

    async with httpx.AsyncClient(timeout=5.0, limits=limits, trust_env=False) as client:
        runner = asyncio.create_task(run(client))
        try:
            yield seen
        finally:
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await runner


def p99(latencies: list[float]) -> float:
    ordered = sorted(latencies)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


def bucket(seconds: float) -> int:
    """The index of the histogram bucket that holds ``seconds`` (len(BUCKETS): +Inf)."""
    return next((i for i, le in enumerate(apm.BUCKETS) if seconds <= le), len(apm.BUCKETS))


async def test_the_sample_service_at_50_requests_a_second_dockyard_p99_is_prometheus_and_the_clients(
    sandbox: Sandbox, served: Sources, real_nodes: RealNodes
) -> None:
    system = f"apr{uuid.uuid4().hex[:8]}"
    prometheus = f"http://127.0.0.1:{sandbox.ports.prometheus}"
    repo, commit = await asyncio.to_thread(sample.repository, served.root, sandbox.base_image)
    async with (
        httpx.AsyncClient(base_url=served.server.url, headers=ADMIN, timeout=30.0) as api,
        httpx.AsyncClient(base_url=prometheus, timeout=30.0) as prom,
    ):
        await register_cluster(api, sandbox)
        path = await create_group(api, system, repository=f"{sandbox.registry}/{system}/web")
        app = f"/api/v1/systems/{system}/apps/web"
        try:
            # Built by Dockyard from the git repository, like any application.
            started = await api.post(f"{app}/builds", json={"source": f"file://{repo}", "commit": commit})
            assert started.status_code == 202, started.text

            async def built() -> dict[str, Any] | Not:
                got: dict[str, Any] = (await api.get(f"{app}/builds/{started.json()['id']}")).json()
                return got if got["status"] in ("succeeded", "failed") else Not(got["status"])

            build = await eventually(built, "the sample service's build", timeout=300)
            assert build["status"] == "succeeded", build

            spec = {
                "build": build["id"],
                "flavor": "tiny",
                "instances": 2,
                "ports": [{"name": "http", "port": 8080}, {"name": "metrics", "port": 9090}],
                "env": SERVICE_ENV,
                "readiness": {"port": 8080, "period_seconds": 1},  # TCP: no request in the histogram
                "termination_grace_seconds": 1,
                "placement": {"pool": real_nodes.pool},
            }
            made = await api.post(f"{path}/deploy", json={"spec": spec, "deadline_seconds": 180})
            assert made.status_code == 202, made.text
            done = await operation_ended(api, made.json()["id"], timeout=240)
            assert done["status"] == "succeeded", done
            instances = (await api.get(f"{path}/instances")).json()["items"]
            pods = {i["name"]: i["pod_ip"] for i in instances}
            assert len(pods) == 2, instances
            assert all(pods.values()), instances

            # Dockyard's service discovery lists both, from its watch caches; Prometheus scrapes them.
            scraper = {"Authorization": f"Bearer {SCRAPE_TOKEN}"}
            listed = (await api.get("/metrics/targets", headers=scraper)).json()
            mine = [t for t in listed if t["labels"]["namespace"] == system]
            assert sorted(mine, key=lambda t: t["labels"]["pod"]) == [
                {"targets": [f"{ip}:9090"], "labels": {"cluster": "local", "namespace": system, "pod": name}}
                for name, ip in sorted(pods.items())
            ]

            async def scraped() -> list[dict[str, Any]] | Not:
                query = f'up{{job="apps",namespace="{system}"}} == 1'
                got = (await prom.get("/api/v1/query", params={"query": query})).json()["data"]["result"]
                return got if len(got) == 2 else Not(got)

            up = await eventually(scraped, "Prometheus scraping both instances", timeout=60)
            assert {r["metric"]["pod"] for r in up} == set(pods)

            async with load(list(pods.values())) as seen:

                async def full_rate() -> dict[str, Any] | Not:
                    answer = (await api.get(f"{path}/apm", params={"since": f"{WINDOW}s"})).json()
                    rows = answer.get("rows") or []
                    settled = rows and abs(rows[0]["rps"] - RATE) < RATE * 0.05 and time.time() - first > WINDOW + 10
                    return answer if settled else Not(rows)

                first = time.time()
                answer = await eventually(full_rate, f"{RATE:g} requests/s in Dockyard's APM", timeout=150)
                by_method = (await api.get(f"{path}/apm", params={"by": "method", "since": f"{WINDOW}s"})).json()
            at = float(answer["at"])
            (row,) = answer["rows"]
            assert row["key"] == {"version": "1"}

            # Prometheus' own quantile over the same histogram of the same instances, at the same time.
            query = (
                f"histogram_quantile(0.99, sum by (le) "
                f'(rate({apm.HISTOGRAM}_bucket{{namespace="{system}"}}[{WINDOW}s])))'
            )
            theirs = (await prom.get("/api/v1/query", params={"query": query, "time": answer["at"]})).json()
            assert row["p99"] == pytest.approx(float(theirs["data"]["result"][0]["value"][1]), rel=1e-9)

            # The load generator's own p99 over the same window: within one bucket.
            window = seen.window(at)
            assert all(status for _, _, status in window), "a request got no answer"
            client_p99 = p99([seconds for _, seconds, _ in window])
            client_errors = sum(1 for *_, status in window if status >= 500) / len(window)
            print(
                f"\n{len(window)} requests in {WINDOW} s: p99 Dockyard {row['p99'] * 1000:.1f} ms, "
                f"load generator {client_p99 * 1000:.1f} ms; p50 {row['p50'] * 1000:.1f} ms, "
                f"p90 {row['p90'] * 1000:.1f} ms; errors Dockyard {row['error_ratio']:.4f}, "
                f"load generator {client_errors:.4f}"
            )
            assert abs(bucket(row["p99"]) - bucket(client_p99)) <= 1, (row["p99"], client_p99)
            assert 0.1 < row["p99"] <= 0.25  # the slow 3 % at 153–187 ms hold the p99
            assert row["p50"] <= row["p90"] <= row["p99"]
            assert row["error_ratio"] == pytest.approx(client_errors, abs=0.01)
            assert 0 < row["error_ratio"] < 0.03

            # Per method: the routes as the service names them, GET /api/orders the busiest.
            assert by_method["top_rps"][0]["key"] == {"method": "GET", "route": "/api/orders"}
            routes = {(r["key"]["method"], r["key"]["route"]) for r in by_method["rows"]}
            assert routes == {("GET", "/api/orders"), ("POST", "/api/orders"), ("GET", "/healthz")}
            assert math.isclose(sum(r["rps"] for r in by_method["rows"]), RATE, rel_tol=0.05)
        finally:
            await api.delete(path)
