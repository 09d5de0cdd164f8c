"""The edge load balancer in front of real instances: a group of three busybox httpd pods on the
sandbox's real node answers through the sandbox's HAProxy by its global name (the body names the
version), and a rolling update to v2 under continuous load (20 requests/s on one keep-alive
connection, never retried) fails **no request**: no request reaches an instance that is gone or not
ready (preStop sleep + readiness + the sync putting a deleted instance in maintenance at once +
retries on a refused connection), and no route change closes a client connection (HAProxy takes
them through its runtime API, without a reload). It prints the runtime commands the sync sent, and
p50/p99 through the edge and straight to a pod."""

from __future__ import annotations

import asyncio
import statistics
import threading
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from dockyard.adapters.edge.haproxy import HAProxyEdge
from dockyard.adapters.kube.client import KubeCluster
from dockyard.sandbox import edge
from tests.integration.harness.client import Api, create_group, register_cluster
from tests.integration.harness.edge import held_route, plain_client
from tests.integration.harness.realnodes import RealNodes, real_spec
from tests.integration.harness.sandboxes import Sandbox
from tests.integration.harness.servers import in_process, settings
from tests.integration.harness.tokens import ADMIN
from tests.integration.harness.waiting import Not, eventually

GRACE = 10  # seconds: the preStop sleep (5 s) runs, then httpd (PID 1, deaf to SIGTERM) is killed


@pytest.fixture
async def edge_api(
    real_nodes: RealNodes, sandbox: Sandbox, database_url: str, kube: KubeCluster, tmp_path: Path
) -> AsyncIterator[Api]:
    system = f"edger-{uuid.uuid4().hex[:8]}"
    config = settings(database_url, tmp_path, edge_runtime=str(edge.runtime_socket(sandbox.layout)))
    async with in_process(config, headers=ADMIN) as server:
        await register_cluster(server.http, sandbox, labels={"idc": "local"})
        await create_group(server.http, system, business_id="b-1")
        yield Api(server.http, server.platform, system)
    await kube.delete("v1", "Namespace", system)


class Load:
    """GETs through the edge at ``rate`` per second from a thread, on one keep-alive connection that
    httpx never retries (a request on a connection closed under it is a failure); every answer's
    status or error kept."""

    def __init__(self, url: str, host: str, rate: float = 20.0) -> None:
        self.url, self.host, self.period = url, host, 1.0 / rate
        self.answers: Counter[str] = Counter()
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with plain_client(self.url, headers={"Host": self.host}) as http:
            next_at = time.monotonic()
            while not self._stop.is_set():
                try:
                    got = http.get("/index.html")
                    if got.status_code == 200:
                        self.answers[got.text.strip()] += 1
                    else:
                        self.failures.append(f"{got.status_code} {got.text[:80]!r}")
                except httpx.HTTPError as e:
                    self.failures.append(f"{type(e).__name__}: {e}")
                next_at += self.period
                time.sleep(max(0.0, next_at - time.monotonic()))

    def __enter__(self) -> Load:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def latencies(url: str, headers: dict[str, str], n: int = 1000) -> tuple[float, float]:
    samples = []
    with httpx.Client(base_url=url, headers=headers, timeout=10) as http:
        for _ in range(n):
            started = time.perf_counter()
            assert http.get("/index.html").status_code == 200
            samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(n * 0.99) - 1]


async def test_real_instances_answer_through_the_edge_and_a_rolling_update_fails_no_request(
    edge_api: Api, real_nodes: RealNodes, sandbox: Sandbox
) -> None:
    api = edge_api
    await api.act("deploy", {"spec": real_spec(real_nodes, "v1", termination_grace_seconds=GRACE)}, timeout=240)
    entry = await api.http.put(f"{api.group}/edge", json={})
    assert entry.status_code == 200, entry.text
    host = entry.json()["host"]
    assert host == f"prod.web.{api.system}.dockyard.internal"
    edge_url = f"http://127.0.0.1:{sandbox.ports.edge}"
    runtime = str(edge.runtime_socket(sandbox.layout))

    async def three_upstreams() -> list[str] | Not:
        held = await held_route(runtime, host)
        dials = [address for address, _ in held or []]
        return dials if len(dials) == 3 else Not(held)

    dials = await eventually(three_upstreams, "the route to hold the three real instances", timeout=10)
    async with httpx.AsyncClient(base_url=edge_url, headers={"Host": host}) as http:
        bodies = Counter([(await http.get("/index.html")).text.strip() for _ in range(30)])
    assert bodies == Counter({"v1": 30})

    through = await asyncio.to_thread(latencies, edge_url, {"Host": host})
    straight = await asyncio.to_thread(latencies, f"http://{dials[0]}", {})
    print(
        f"\nlatency ms through the edge p50 {through[0]:.2f} p99 {through[1]:.2f}; "
        f"straight to a pod p50 {straight[0]:.2f} p99 {straight[1]:.2f}"
    )

    balancer = api.platform.edge
    assert isinstance(balancer, HAProxyEdge)
    sent_before = balancer.sent
    with Load(edge_url, host) as load:
        await asyncio.sleep(1)
        await api.act("deploy", {"spec": real_spec(real_nodes, "v2", termination_grace_seconds=GRACE)}, timeout=240)

        async def only_v2() -> bool | Not:
            async with httpx.AsyncClient(base_url=edge_url, headers={"Host": host}) as http:
                seen = Counter([(await http.get("/index.html")).text.strip() for _ in range(20)])
            return seen == Counter({"v2": 20}) or Not(seen)

        await eventually(only_v2, "only v2 to answer through the edge", timeout=60)
        await asyncio.sleep(GRACE)  # the old instances' whole termination, under load
    sent = balancer.sent - sent_before
    print(
        f"rolling update under load: {sum(load.answers.values())} answers {dict(load.answers)}, "
        f"{len(load.failures)} failed {load.failures}, {sent} runtime commands (no reload)"
    )
    assert sent > 0
    assert load.failures == [], load.failures
    assert load.answers["v1"] > 0
    assert load.answers["v2"] > 0
    assert sum(load.answers.values()) >= 20 * 10
