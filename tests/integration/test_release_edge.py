"""A gray release with a weight step, through the edge load balancer (the sandbox's HAProxy) to real
containers on the sandbox's real node: v2 ``[gray 1, pause, weight 50%, pause, 100%]`` of a 3-instance
group. At each pause 1,000 requests through the balancer see the expected share of v2 (±5 %): a third
at the first pause (no weight yet: by instance counts), half at the second; promote → only v2 answers,
rollback → only v1; and not one request fails, while a steady load runs through every step (the
canary coming up, the weight, the stable version going, the hand-back, the rollback). Every client
here keeps its connection alive and never retries: a connection closed unanswered is a failure.

And a release that aborts by itself: v2's readiness probe never passes (its path does not exist), so
the step's canary is not Ready within the release's step deadline; the release ends ``aborted`` with
nobody asking, the canary goes, and v1 answers every request through the edge all along."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dockyard.adapters.kube.client import KubeCluster
from dockyard.sandbox import edge
from tests.integration.harness.client import Api, create_group, register_cluster
from tests.integration.harness.edge import held_route, plain_client
from tests.integration.harness.realnodes import RealNodes, real_spec
from tests.integration.harness.sandboxes import Sandbox
from tests.integration.harness.servers import in_process, settings
from tests.integration.harness.tokens import ADMIN
from tests.integration.harness.waiting import Not, eventually

REQUESTS = 1000
TOLERANCE = 0.05
# The edge drains an instance 5 s before its container stops (a preStop sleep within the grace period).
GRACE = 7


@pytest.fixture
async def edge_api(sandbox: Sandbox, database_url: str, kube: KubeCluster, tmp_path: Path) -> AsyncIterator[Api]:
    """A server in-process whose edge load balancer is the sandbox's HAProxy, with cluster ``local``."""
    system = f"weigh-{uuid.uuid4().hex[:8]}"
    config = settings(database_url, tmp_path, edge_runtime=str(edge.runtime_socket(sandbox.layout)))
    async with in_process(config, headers=ADMIN) as server:
        await register_cluster(server.http, sandbox, labels={"idc": "local"})
        await create_group(server.http, system, business_id="b-1")
        yield Api(server.http, server.platform, system)
    await kube.delete("v1", "Namespace", system)


class Traffic:
    """Requests through the edge for the group's host, from a thread of their own (the server runs in
    the test's event loop): a steady background load between measurements, and :meth:`measure`'s
    bursts. Every answer is counted by the version in its body; anything else is a failure: a wrong
    answer (another status, a 502/503, a wrong body, no connection), or a connection closed without
    an answer (also kept in ``closed``, with its time)."""

    def __init__(self, url: str, host: str) -> None:
        self.url = url
        self.host = host
        self.failures: list[str] = []
        self.closed: list[str] = []
        self.answers: Counter[str] = Counter()
        self._steady = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _one(self, client: httpx.Client) -> str | None:
        try:
            got = client.get(self.url, headers={"Host": self.host})
        except (httpx.RemoteProtocolError, httpx.ReadError) as e:  # closed unanswered
            failure = f"closed unanswered: {type(e).__name__}: {e}"
            with self._lock:
                self.closed.append(f"{time.strftime('%H:%M:%S')} {failure}")
        except httpx.HTTPError as e:
            failure = f"{type(e).__name__}: {e}"
        else:
            body = got.text.strip()
            if got.status_code == 200 and body in ("web v1", "web v2"):
                with self._lock:
                    self.answers[body] += 1
                return body
            failure = f"{got.status_code} {body[:80]!r}"
        with self._lock:
            self.failures.append(f"{time.strftime('%H:%M:%S')} {failure}")
        return None

    def _run(self) -> None:
        with _client() as client:
            while not self._stop.is_set():
                if self._steady.wait(0.1):
                    self._one(client)
                    time.sleep(0.005)

    def __enter__(self) -> Traffic:
        self._steady.set()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=15)

    def _burst(self, count: int) -> Counter[str]:
        seen: Counter[str] = Counter()
        with _client() as client:
            for _ in range(count):
                body = self._one(client)
                seen[body or "failed"] += 1
        return seen

    async def measure(self, count: int = REQUESTS) -> Counter[str]:
        """``count`` requests one after the other, with the steady load held meanwhile (the balancer's
        round robin is shared: interleaved requests would take turns from the burst); their versions."""
        self._steady.clear()
        try:
            return await asyncio.to_thread(self._burst, count)
        finally:
            self._steady.set()


def _client() -> httpx.Client:
    return plain_client()


async def _route(runtime: str, host: str) -> list[tuple[str, int]]:
    """HAProxy's route for ``host`` as it holds it: ``(pod IP:port, weight)`` per server in service."""
    return await held_route(runtime, host) or []


async def _serving(api: Api) -> dict[str, str]:
    """``pod IP:8080`` → version of the group's Ready instances that are not going away."""
    items = (await api.http.get(f"{api.group}/instances")).json()["items"]
    return {f"{i['pod_ip']}:8080": i["version"] for i in items if i["ready"] and not i["deleting"]}


async def _balancer_at(api: Api, runtime: str, host: str, *, v2: float, instances: dict[str, int]) -> None:
    """Wait until HAProxy routes to exactly the serving instances (``instances``: how many of each
    version) and gives v2 the ``v2`` share of the weights."""

    async def there() -> list[tuple[str, int]] | Not:
        route = await _route(runtime, host)
        serving = await _serving(api)
        versions = Counter(serving.get(dial, "?") for dial, _ in route)
        total = sum(w for _, w in route)
        share = sum(w for dial, w in route if serving.get(dial) == "2") / total if total else -1.0
        ok = versions == Counter(instances) and abs(share - v2) < 1e-9
        return route if ok else Not({"route": route, "serving": serving, "share": share})

    await eventually(there, f"the balancer at v2 = {v2:.0%} over {instances}", timeout=60)


def _assert_share(seen: Counter[str], v2: float) -> None:
    assert seen["failed"] == 0, seen
    got = seen["web v2"] / REQUESTS
    assert abs(got - v2) <= TOLERANCE, f"v2 answered {got:.1%} of {REQUESTS} requests, wanted {v2:.1%} ± 5 %"


async def test_weight_steps_split_real_requests_at_the_edge(
    edge_api: Api, real_nodes: RealNodes, sandbox: Sandbox
) -> None:
    api = edge_api
    runtime = str(edge.runtime_socket(sandbox.layout))
    host = f"prod.web.{api.system}.dockyard.internal"
    v1 = real_spec(real_nodes, "web v1", termination_grace_seconds=GRACE)
    await api.act("deploy", {"spec": v1, "deadline_seconds": 120})
    assert (await api.http.put(f"{api.group}/edge", json={})).status_code == 200
    await _balancer_at(api, runtime, host, v2=0.0, instances={"1": 3})

    with Traffic(f"http://127.0.0.1:{sandbox.ports.edge}/index.html", host) as traffic:
        changes = {"config_files": {"index.html": "web v2\n"}}
        steps = ["gray 1", "pause", "weight 50%", "pause", "100%"]
        body: dict[str, Any] = {"changes": changes, "steps": steps, "step_deadline_seconds": 120}
        started = await api.http.post(f"{api.group}/releases", json=body)
        assert started.status_code == 202, started.text
        release = started.json()
        promote = f"{api.group}/releases/{release['id']}/promote"

        # First pause: gray 1, no weight: requests follow the instance counts, a third to v2.
        first = await api.release_when(release["id"], "paused", step=1, timeout=180)
        assert first["edge_share"] is None
        await _balancer_at(api, runtime, host, v2=1 / 3, instances={"1": 2, "2": 1})
        _assert_share(await traffic.measure(), 1 / 3)

        # Second pause: weight 50%: half the requests to the one v2 instance, whatever the counts.
        assert (await api.http.post(promote, json={})).status_code == 200
        second = await api.release_when(release["id"], "paused", step=3)
        assert second["edge_share"] == 50
        await _balancer_at(api, runtime, host, v2=0.5, instances={"1": 2, "2": 1})
        _assert_share(await traffic.measure(), 0.5)

        # Promote to the end: only v2 answers.
        assert (await api.http.post(promote, json={})).status_code == 200
        done = await api.release_when(release["id"], "succeeded", timeout=180)
        assert done["edge_share"] == 100
        await _balancer_at(api, runtime, host, v2=1.0, instances={"2": 3})
        assert (await traffic.measure()) == Counter({"web v2": REQUESTS})

        # Rollback: only v1 answers.
        await api.act("rollback", {"version": 1, "deadline_seconds": 120}, timeout=180)
        await _balancer_at(api, runtime, host, v2=0.0, instances={"1": 3})
        assert (await traffic.measure()) == Counter({"web v1": REQUESTS})
        await asyncio.sleep(GRACE)  # the last v2 containers stop: the steady load sees it through

    # Every request answered, and answered right: none failed, no connection closed unanswered.
    assert traffic.failures == [], traffic.failures[:20]
    assert traffic.closed == []
    steady = sum(traffic.answers.values()) - 4 * REQUESTS
    assert steady > 200, f"only {steady} steady requests went through the steps"
    assert traffic.answers["web v1"] > 0
    assert traffic.answers["web v2"] > 0
    print(  # the run's numbers (pytest -s)
        f"requests answered {sum(traffic.answers.values())} {dict(traffic.answers)}, failed 0, closed unanswered 0"
    )


# The release's own step deadline (the default, DEFAULT_STEP_DEADLINE, is 300 s): short, so it aborts soon.
STEP_DEADLINE = 20


async def test_a_version_never_ready_aborts_its_release_by_itself_and_v1_answers_throughout(
    edge_api: Api, real_nodes: RealNodes, sandbox: Sandbox
) -> None:
    api = edge_api
    runtime = str(edge.runtime_socket(sandbox.layout))
    host = f"prod.web.{api.system}.dockyard.internal"
    await api.act("deploy", {"spec": real_spec(real_nodes, "web v1"), "deadline_seconds": 120})
    assert (await api.http.put(f"{api.group}/edge", json={})).status_code == 200
    await _balancer_at(api, runtime, host, v2=0.0, instances={"1": 3})

    with Traffic(f"http://127.0.0.1:{sandbox.ports.edge}/index.html", host) as traffic:
        await asyncio.sleep(2)  # the steady load sees v1 before the release
        # v2 answers "web v2" too, but its readiness probe asks for a page that does not exist (404).
        readiness = {"port": 8080, "path": "/no-such-page.html", "period_seconds": 1}
        changes = {"config_files": {"index.html": "web v2\n"}, "readiness": readiness}
        body = {"changes": changes, "steps": ["gray 1", "pause", "100%"], "step_deadline_seconds": STEP_DEADLINE}
        started_at = time.monotonic()
        started = await api.http.post(f"{api.group}/releases", json=body)
        assert started.status_code == 202, started.text
        release = started.json()

        # The canary instance runs (a real container, answering) but never turns Ready.
        async def canary_running() -> dict[str, Any] | Not:
            items = (await api.http.get(f"{api.group}/instances")).json()["items"]
            mine = [i for i in items if i["version"] == "2"]
            return mine[0] if len(mine) == 1 and mine[0]["phase"] == "Running" else Not(items)

        canary = await eventually(canary_running, "the v2 instance running", timeout=STEP_DEADLINE)
        assert not canary["ready"]

        # Nobody steers it: past the step deadline the release aborts by itself, naming readiness.
        aborted = await api.release_when(release["id"], "aborted", timeout=STEP_DEADLINE + 60)
        to_abort = time.monotonic() - started_at
        assert aborted["step"] == 0
        assert f"0/1 instances of version 2 ready after {STEP_DEADLINE}s" in aborted["error"], aborted["error"]
        assert "readiness probe has not passed" in aborted["error"], aborted["error"]  # the cause named
        assert to_abort >= STEP_DEADLINE

        # The v2 instance is gone; v1 keeps its three instances, all in the balancer's route.
        async def v2_gone() -> list[dict[str, Any]] | Not:
            items = (await api.http.get(f"{api.group}/instances")).json()["items"]
            versions = Counter(i["version"] for i in items)
            ready_v1 = sum(1 for i in items if i["version"] == "1" and i["ready"])
            return items if versions == Counter({"1": 3}) and ready_v1 == 3 else Not(items)

        await eventually(v2_gone, "the v2 instance gone, three v1 Ready", timeout=60)
        gone_at = time.monotonic() - started_at
        await _balancer_at(api, runtime, host, v2=0.0, instances={"1": 3})
        assert (await traffic.measure()) == Counter({"web v1": REQUESTS})
        await asyncio.sleep(2)  # the steady load goes on after the canary went

    # Every request answered by v1: none failed, no connection closed unanswered.
    assert traffic.failures == [], traffic.failures[:20]
    assert traffic.closed == []
    assert traffic.answers["web v2"] == 0
    steady = traffic.answers["web v1"] - REQUESTS
    assert steady > 200, f"only {steady} steady requests went through the release"
    print(  # the run's numbers (pytest -s)
        f"aborted by itself {to_abort:.1f}s after the start (step deadline {STEP_DEADLINE}s), v2 instance gone at "
        f"{gone_at:.1f}s; requests answered by v1 {traffic.answers['web v1']}, wrong 0, closed unanswered 0; "
        f"error: {aborted['error']!r}"
    )
