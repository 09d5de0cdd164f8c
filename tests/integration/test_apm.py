"""APM and releases judged by it, end to end: KWOK instances emulating the request-duration histogram
at rates the test sets per version (annotations put on each new instance at once, before its second
scrape) → the sandbox's Prometheus → Dockyard's APM API and the release runner in a server process.

- at 50 requests/s, Dockyard's p99 for the group is Prometheus' own ``histogram_quantile`` over the same
  histogram, and within one bucket of the p99 the emulation is set for;
- a canary whose p99 is 2× the stable's is aborted by analysis within 3 intervals; one equal to stable
  is promoted; with Prometheus stopped the release pauses "inconclusive" and resumes once it is back.

Runs once, on SQLite (the database is not the subject)."""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import signal
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from lightkube.resources.core_v1 import Pod

from dockyard.adapters.kube.client import KubeCluster
from dockyard.domain import apm
from dockyard.sandbox import cluster, monitoring, processes
from tests.integration.harness.client import create_group, operation_ended, register_cluster
from tests.integration.harness.kube import live_pods
from tests.integration.harness.sandboxes import Sandbox
from tests.integration.harness.servers import ServerProcess, process_env, server_process
from tests.integration.harness.tokens import ADMIN
from tests.integration.harness.waiting import Not, eventually

pytestmark = pytest.mark.integration
SCRAPE_TOKEN = "dym_" + "b" * 40
SPEC: dict[str, Any] = {"image": "registry.local/shop/web:1", "flavor": "tiny", "instances": 5}
PREFIX = monitoring.ANNOTATION_PREFIX
MARK = "apm-test.dockyard.io/set"


@pytest.fixture
def server(sandbox: Sandbox, database_url: str, tmp_path: Path) -> Iterator[ServerProcess]:
    env = process_env(
        database_url,
        tmp_path,
        DOCKYARD_PROMETHEUS_URL=f"http://127.0.0.1:{sandbox.ports.prometheus}",
        DOCKYARD_METRICS_TOKEN=SCRAPE_TOKEN,
    )
    with server_process(env, tmp_path / "server.log") as process:
        monitoring.register_dockyard(sandbox.layout, address=f"127.0.0.1:{process.port}", token=SCRAPE_TOKEN)
        try:
            yield process
        finally:
            monitoring.unregister_dockyard(sandbox.layout)


@contextlib.asynccontextmanager
async def annotating(kube: KubeCluster, namespace: str, by_version: dict[str, dict[str, str]]) -> AsyncIterator[None]:
    """Each new instance gets its version's request rates at once (KWOK reads them at every scrape; set
    within a fraction of a second of creation, they count from the start)."""

    async def run() -> None:
        while True:
            for pod in await live_pods(kube, namespace):
                meta = pod["metadata"]
                if MARK in (meta.get("annotations") or {}):
                    continue
                rates = by_version.get(meta["labels"].get("dockyard.io/version", ""), {})
                patch = {"metadata": {"annotations": {MARK: "1", **{PREFIX + k: v for k, v in rates.items()}}}}
                with contextlib.suppress(Exception):  # a pod deleted meanwhile
                    await kube.client.patch(Pod, meta["name"], patch, namespace=namespace)
            await asyncio.sleep(0.2)

    task = asyncio.create_task(run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def deployed(api: httpx.AsyncClient, sandbox: Sandbox, system: str) -> str:
    await register_cluster(api, sandbox)
    path = await create_group(api, system)
    made = await api.post(f"{path}/deploy", json={"spec": SPEC})
    assert made.status_code == 202, made.text
    assert (await operation_ended(api, made.json()["id"]))["status"] == "succeeded"
    return path


async def test_the_group_p99_at_50_requests_a_second_is_prometheus_histogram_quantile(
    sandbox: Sandbox, server: ServerProcess, kube: KubeCluster
) -> None:
    system = f"apm{uuid.uuid4().hex[:8]}"
    prometheus = f"http://127.0.0.1:{sandbox.ports.prometheus}"
    async with (
        httpx.AsyncClient(base_url=server.url, headers=ADMIN, timeout=30.0) as api,
        httpx.AsyncClient(base_url=prometheus, timeout=30.0) as prom,
        annotating(kube, system, {"1": {"requests": "10"}}),
    ):
        path = await deployed(api, sandbox, system)
        try:

            async def full_rate() -> dict[str, Any] | Not:
                answer = (await api.get(f"{path}/apm", params={"since": "30s"})).json()
                rows = answer.get("rows") or []
                return answer if rows and abs(rows[0]["rps"] - 50) < 1 else Not(rows)

            answer = await eventually(full_rate, "5 instances × 10 requests/s", timeout=120)
            (row,) = answer["rows"]
            assert row["key"] == {"version": "1"}
            assert row["error_ratio"] == 0.0
            # Prometheus' own quantile over the same histogram of the same instances, at the same time.
            mine = f'histogram_quantile(0.99, sum by (le) (rate({apm.HISTOGRAM}_bucket{{namespace="{system}"}}[30s])))'
            theirs = (await prom.get("/api/v1/query", params={"query": mine, "time": answer["at"]})).json()
            p99 = float(theirs["data"]["result"][0]["value"][1])
            assert row["p99"] == pytest.approx(p99, rel=1e-9)
            # The p99 the emulation is set for (1.8 % slow at 0.25 s) within one bucket (0.1–0.25).
            total: dict[float, float] = {}
            for buckets in monitoring.emulated_rates({PREFIX + "requests": "10"}).values():
                for le, count in buckets:
                    total[le] = total.get(le, 0.0) + count * 5
            assert abs(row["p99"] - apm.quantile(0.99, sorted(total.items()))) <= 0.15
            assert row["p50"] <= row["p90"] <= row["p99"]

            by_method = (await api.get(f"{path}/apm", params={"by": "method", "since": "30s", "top": "2"})).json()
            assert [r["key"]["route"] for r in by_method["top_rps"]] == ["/api/orders", "/api/orders"]
            assert by_method["top_rps"][0]["key"]["method"] == "GET"
            assert len(by_method["top_p99"]) == 2
            assert "/healthz" not in {r["key"]["route"] for r in by_method["top_p99"]}
            assert math.isclose(sum(r["rps"] for r in by_method["rows"]), 50, rel_tol=0.05)

            bad = await api.get(f"{path}/apm", params={"by": 'version"} or vector(1'})
            assert bad.status_code == 422
            assert bad.json()["details"]["field"] == "by"
        finally:
            await api.delete(path)


def release_body(rates: str, **analysis: Any) -> dict[str, Any]:
    return {
        "changes": {"image": f"registry.local/shop/web:{rates}"},
        "steps": ["gray 2", "analyze p99,error_ratio", "100%"],
        "analysis": {"interval_seconds": 15, "min_requests": 100, "passes": 2, **analysis},
    }


async def release_ended(api: httpx.AsyncClient, path: str, rid: str, timeout: float = 240) -> dict[str, Any]:
    async def ended() -> dict[str, Any] | Not:
        got: dict[str, Any] = (await api.get(f"{path}/releases/{rid}")).json()
        return got if got["status"] in ("succeeded", "aborted", "failed") else Not((got["status"], got["ledger"][-1:]))

    return await eventually(ended, f"release {rid} to end", timeout=timeout)


def verdicts(release: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in release["ledger"] if e["event"] == "analysis"]


async def test_a_canary_with_twice_the_p99_is_aborted_and_an_equal_one_promoted(
    sandbox: Sandbox, server: ServerProcess, kube: KubeCluster
) -> None:
    system = f"apm{uuid.uuid4().hex[:8]}"
    rates = {"1": {"requests": "10"}, "2": {"requests": "10", "slow-seconds": "0.5"}, "3": {"requests": "10"}}
    async with (
        httpx.AsyncClient(base_url=server.url, headers=ADMIN, timeout=30.0) as api,
        annotating(kube, system, rates),
    ):
        path = await deployed(api, sandbox, system)
        try:
            started = await api.post(f"{path}/releases", json=release_body("2"))
            assert started.status_code in (200, 201, 202), started.text
            slow = await release_ended(api, path, started.json()["id"])
            assert slow["status"] == "aborted", slow
            judged = verdicts(slow)
            assert [v["verdict"] for v in judged if v["verdict"] != "inconclusive"] == ["fail", "fail"], judged
            assert len(judged) <= 3, judged
            numbers = judged[-1]["numbers"]["p99"]
            assert numbers["canary"] >= 2 * numbers["stable"], numbers
            assert "analysis failed" in slow["error"]

            # Version 3 runs like version 1: promoted after two passing intervals.
            started = await api.post(f"{path}/releases", json=release_body("3"))
            assert started.status_code in (200, 201, 202), started.text
            equal = await release_ended(api, path, started.json()["id"])
            assert equal["status"] == "succeeded", equal
            assert [v["verdict"] for v in verdicts(equal)].count("pass") == 2
            assert "fail" not in {v["verdict"] for v in verdicts(equal)}
        finally:
            await api.delete(path)


async def test_without_prometheus_the_release_pauses_inconclusive_and_resumes(
    sandbox: Sandbox, server: ServerProcess, kube: KubeCluster
) -> None:
    system = f"apm{uuid.uuid4().hex[:8]}"
    rates = {"1": {"requests": "10"}, "2": {"requests": "10"}}
    layout = sandbox.layout
    async with (
        httpx.AsyncClient(base_url=server.url, headers=ADMIN, timeout=30.0) as api,
        annotating(kube, system, rates),
    ):
        path = await deployed(api, sandbox, system)
        try:
            started = await api.post(f"{path}/releases", json=release_body("2", passes=3))
            assert started.status_code in (200, 201, 202), started.text
            rid = started.json()["id"]

            async def judged_once() -> dict[str, Any] | Not:
                got: dict[str, Any] = (await api.get(f"{path}/releases/{rid}")).json()
                return got if verdicts(got) else Not(got["status"])

            await eventually(judged_once, "a first verdict", timeout=120)
            prometheus = processes.find(layout.pid_file("prometheus"), marker=str(layout.root))
            assert prometheus is not None
            os.kill(prometheus.pid, signal.SIGKILL)
            stopped_at = time.time()

            async def paused() -> dict[str, Any] | Not:
                got: dict[str, Any] = (await api.get(f"{path}/releases/{rid}")).json()
                last = verdicts(got)[-1]
                unanswered = last["verdict"] == "inconclusive" and "metrics store cannot answer" in last["reason"]
                return got if got["status"] == "paused" and unanswered else Not(last)

            # (An earlier verdict may be inconclusive too, for too few requests: this one is Prometheus'.)
            held = await eventually(paused, "an inconclusive pause without Prometheus", timeout=90)
            assert held["status"] == "paused"
            await asyncio.sleep(max(0.0, 35 - (time.time() - stopped_at)))  # two more intervals without it
            still = (await api.get(f"{path}/releases/{rid}")).json()
            assert still["status"] == "paused", still["ledger"][-3:]
            assert "fail" not in {v["verdict"] for v in verdicts(still)}

            await asyncio.to_thread(lambda: cluster.up(layout, ports=sandbox.ports))  # Prometheus back
            done = await release_ended(api, path, rid)
            assert done["status"] == "succeeded", done["ledger"][-4:]
            assert "fail" not in {v["verdict"] for v in verdicts(done)}
            assert [v["verdict"] for v in verdicts(done)].count("pass") == 3
        finally:
            await api.delete(path)
            if processes.find(layout.pid_file("prometheus"), marker=str(layout.root)) is None:
                # The sandbox is shared: the tests after this one need their Prometheus.
                await asyncio.to_thread(lambda: cluster.up(layout, ports=sandbox.ports))
