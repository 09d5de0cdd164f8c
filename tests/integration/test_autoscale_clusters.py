"""Autoscaling across two sandbox clusters, and during a gray release (issue 19, "Done when").

The signal is CPU, not requests/s: KWOK instances carry a CPU rate the test sets (their usage
annotation), the policy's ``cpu`` signal reads it from Dockyard's roll-up series, and a baseline of
50m a instance stands for the issue's 50 req/s (600 → 12, 100 → 2, as in test_autoscale.py). The
``requests`` signal reads the instances' own request counter, which fake instances do not serve.

Two clusters: ``local`` (the main sandbox) and ``b`` (the second one). Dockyard reads one Prometheus,
the main sandbox's; for the test it also scrapes the second sandbox's KWOK nodes as ``cluster=b``
(harness/autoscaling.py :func:`scraping`), so the group's signal is its total over both clusters.

Spare room exactly 2:1: the group is placed in a pool of the test's own, 4 nodes on ``local`` and 2
on ``b``, each with room for 16 ``tiny`` instances (4 cores, 4 GiB; a tiny instance asks 250m, 256 MiB):
64 and 32 (the group's own instances count as room it can reuse, so the room stays 64:32 as it grows).

The first test scales the group over the two clusters (12 as 8 / 4, and back to 2). On one cluster
a release paused at 20 % takes the autoscaler's totals and keeps its proportions: the second test. A
gray release on the two clusters goes cluster by cluster; the autoscaler's totals are split over them
by the same 2:1 room, each cluster keeping its place in the release (services/autoscale.py): the
third test, with the release paused at 20 % first on ``b`` (``local`` not begun), then on ``local``
(``b`` released).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from dockyard.adapters.kube.client import KubeCluster
from dockyard.sandbox import monitoring
from dockyard.sandbox.topology import Capacity
from tests.integration.harness.autoscaling import Load, driving, room_pool, scraping
from tests.integration.harness.client import create_group, operation_ended, register_cluster
from tests.integration.harness.kube import live_pods, versions
from tests.integration.harness.sandboxes import Sandbox
from tests.integration.harness.servers import ServerProcess, process_env, server_process
from tests.integration.harness.tokens import ADMIN
from tests.integration.harness.waiting import Not, eventually

pytestmark = pytest.mark.integration
SCRAPE_TOKEN = "dym_" + "b" * 40
EVERY = 2  # seconds between two decisions (DOCKYARD_AUTOSCALE_EVERY)
UP_WINDOW, DOWN_WINDOW = 10, 20
POLICY: dict[str, Any] = {
    "min": 2,
    "max": 20,
    "signals": [{"signal": "cpu", "baseline": 0.05}],  # 50m a instance: 600m → 12 instances
    "tolerance": 0.05,  # as test_autoscale.py: lets the ramp's last step (11 × 54m) reach 12
    "scale_up": {"window_seconds": UP_WINDOW},
    "scale_down": {"window_seconds": DOWN_WINDOW},
}
SPEC: dict[str, Any] = {"image": "registry.local/shop/web:1", "flavor": "tiny", "instances": 2, "autoscale": POLICY}
ROOM = Capacity(cpu="4", memory="4Gi")  # 16 tiny instances a node
SCALING = 300.0  # seconds a scale may take: rate1m follows a step within a minute, then windows and rollouts


@pytest.fixture
def server(sandbox: Sandbox, second_sandbox: Sandbox, database_url: str, tmp_path: Path) -> Iterator[ServerProcess]:
    """A server process (autoscaler every 2 s) reading the main sandbox's Prometheus, which scrapes
    it and the second sandbox's KWOK nodes (as cluster ``b``)."""
    env = process_env(
        database_url,
        tmp_path,
        DOCKYARD_PROMETHEUS_URL=f"http://127.0.0.1:{sandbox.ports.prometheus}",
        DOCKYARD_METRICS_TOKEN=SCRAPE_TOKEN,
        DOCKYARD_AUTOSCALE_EVERY=str(EVERY),
        DOCKYARD_AUTOSCALE_STEP="5",
        DOCKYARD_AUTOSCALE_STALE_SECONDS="30",
    )
    with server_process(env, tmp_path / "server.log") as process, scraping(sandbox, second_sandbox, cluster="b"):
        monitoring.register_dockyard(sandbox.layout, address=f"127.0.0.1:{process.port}", token=SCRAPE_TOKEN)
        try:
            yield process
        finally:
            monitoring.unregister_dockyard(sandbox.layout)


@pytest.fixture
async def kube_b(second_sandbox: Sandbox) -> AsyncIterator[KubeCluster]:
    async with KubeCluster(second_sandbox.kubeconfig, timeout=30.0) as client:
        yield client


@dataclass
class Sample:
    at: float
    instances: int
    load: float | None
    wanted: int | None


class Timeline:
    """The autoscale status every second: when the signal asked for a count, when it ran."""

    def __init__(self, api: httpx.AsyncClient, path: str) -> None:
        self.api, self.path = api, path
        self.samples: list[Sample] = []

    async def run(self) -> None:
        while True:
            with contextlib.suppress(httpx.HTTPError, KeyError, TypeError):
                status = (await self.api.get(f"{self.path}/autoscale")).json()
                view = ((status.get("decision") or {}).get("signals") or [{}])[0]
                self.samples.append(Sample(time.time(), status["instances"], view.get("load"), view.get("wanted")))
            await asyncio.sleep(1.0)

    def show(self, since: float) -> str:
        """The samples since ``since`` where the count, or what the signal asks for, changed."""
        lines, last = [], None
        for s in self.samples:
            if s.at >= since and (s.instances, s.wanted) != last:
                load = f"{s.load * 1000:.0f}m" if s.load is not None else "-"
                lines.append(f"  +{s.at - since:5.1f}s load {load:>6} wants {s.wanted} runs {s.instances}")
                last = (s.instances, s.wanted)
        return "\n".join(lines)

    def held_since(self, until: float, want: int) -> float | None:
        """When the signal began asking for ``want`` or more without a break up to ``until``."""
        began = None
        for s in self.samples:
            if s.at > until:
                break
            asks = s.wanted is not None and s.wanted >= want
            began = (began or s.at) if asks else None
        return began

    def first(self, since: float, want: int, *, up: bool) -> float | None:
        """When the signal first asked for ``want`` or more (``up``; else ``want`` or fewer) since ``since``."""
        for s in self.samples:
            if s.at >= since and s.wanted is not None and (s.wanted >= want if up else s.wanted <= want):
                return s.at
        return None


def recording(api: httpx.AsyncClient, path: str) -> contextlib.AbstractAsyncContextManager[Timeline]:
    return driving(Timeline(api, path))


async def count_reaches(api: httpx.AsyncClient, path: str, want: int, timeout: float = SCALING) -> dict[str, Any]:
    """The group once the autoscaler's count is ``want``, all ready, no operation under way."""

    async def check() -> dict[str, Any] | Not:
        status = (await api.get(f"{path}/autoscale")).json()
        group = (await api.get(path)).json()
        state = group["status"]
        seen = (status["instances"], state["ready"], state["operation"], status.get("decision"))
        done = status["instances"] == want and state["ready"] == want and state["operation"] is None
        return group if done else Not(seen)

    return await eventually(check, f"{path} at {want} instances", timeout=timeout)


async def autoscale_ops(api: httpx.AsyncClient, path: str) -> list[dict[str, Any]]:
    history = (await api.get(f"{path}/operations")).json()
    return [op for op in history if op["action"] == "autoscale"]


def split_of(group: dict[str, Any]) -> dict[str, int]:
    return {c["cluster"]: c["instances"] for c in group["clusters"]}


async def decided_at(api: httpx.AsyncClient, path: str, instances: int) -> float:
    """When the autoscale operation to ``instances`` (the newest one) started."""
    op = next(op for op in await autoscale_ops(api, path) if op["params"]["instances"] == instances)
    return dt.datetime.fromisoformat(op["started_at"]).timestamp()


async def deployed_on_both(
    api: httpx.AsyncClient, sandbox: Sandbox, second_sandbox: Sandbox, system: str, pool: str
) -> str:
    """Both sandboxes registered (``local`` in IDC a, ``b`` in IDC b) and a new group of ``system``
    deployed with :data:`SPEC` on ``pool`` of both; the group's API path."""
    await register_cluster(api, sandbox, name="local", labels={"idc": "a"})
    await register_cluster(api, second_sandbox, name="b", labels={"idc": "b"})
    path = await create_group(api, system, environment="test")
    placement = {"pool": pool, "location": {"clusters": ["local", "b"]}}
    deployed = await api.post(f"{path}/deploy", json={"spec": {**SPEC, "placement": placement}})
    assert deployed.status_code == 202, deployed.text
    done = await operation_ended(api, deployed.json()["id"])
    assert done["status"] == "succeeded", done
    return path


async def test_a_group_on_two_clusters_with_room_2_to_1_scales_to_12_as_8_and_4_and_back_to_2(
    sandbox: Sandbox, second_sandbox: Sandbox, server: ServerProcess, kube: KubeCluster, kube_b: KubeCluster
) -> None:
    system = f"asc{uuid.uuid4().hex[:8]}"
    kubes = {"local": kube, "b": kube_b}
    async with (
        httpx.AsyncClient(base_url=server.url, headers=ADMIN, timeout=30.0) as api,
        room_pool({"local": (kube, 4), "b": (kube_b, 2)}, ROOM) as pool,
    ):
        path = await deployed_on_both(api, sandbox, second_sandbox, system, pool)
        assert split_of((await api.get(path)).json()) == {"local": 1, "b": 1}
        try:
            async with driving(Load(kubes, system)) as load, recording(api, path) as timeline:
                # 600m over instances of 50m: 12, split 8 / 4 by the room (64 : 32).
                began = time.time()
                load.total = 600
                group = await count_reaches(api, path, 12)
                reached = time.time()
                assert split_of(group) == {"local": 8, "b": 4}
                assert len(await live_pods(kube, system)) == 8
                assert len(await live_pods(kube_b, system)) == 4
                status = (await api.get(f"{path}/autoscale")).json()
                assert status["split"] == {"local": 8, "b": 4}
                decided = await decided_at(api, path, 12)
                asked = timeline.held_since(decided, 12)
                assert asked is not None, timeline.show(began)
                ops = await autoscale_ops(api, path)
                print(
                    f"\n600m: 12 instances (8 / 4) {reached - began:.1f}s after the load changed; the signal asked"
                    f" for 12 from +{asked - began:.1f}s on, the autoscaler decided 12 at +{decided - began:.1f}s"
                    f" ({decided - asked:.1f}s after; scale-up window {UP_WINDOW}s, a loop {EVERY}s);"
                    f" steps {[op['params']['instances'] for op in reversed(ops)]}"
                )
                print(timeline.show(began))
                for op in reversed(ops):
                    start = dt.datetime.fromisoformat(op["started_at"]).timestamp() - began
                    step = f"{op['params']['was']}→{op['params']['instances']}"
                    print(f"  op {step} at +{start:.1f}s: {op['params']['why']}")

                # The load falls: the group goes down to 2 (1 / 1: 2 × 64/96 = 1.33).
                lowered = time.time()
                load.total = 100
                group = await count_reaches(api, path, 2)
                assert split_of(group) == {"local": 1, "b": 1}
                print(f"100m: 2 instances (1 / 1) {time.time() - lowered:.1f}s after the load changed")
                print(timeline.show(lowered))
                # One loop after the window, plus the query's 5 s step and a rollout under way before it.
                assert decided - asked <= UP_WINDOW + EVERY + 5 + 10, decided - asked
        finally:
            await api.delete(path)
            for client in (kube, kube_b):
                with contextlib.suppress(Exception):
                    await client.delete("v1", "Namespace", system)


async def test_during_a_gray_release_at_20_percent_the_total_follows_the_load_and_the_split_holds(
    sandbox: Sandbox, server: ServerProcess, kube: KubeCluster
) -> None:
    system = f"asg{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(base_url=server.url, headers=ADMIN, timeout=30.0) as api:
        await register_cluster(api, sandbox)
        path = await create_group(api, system, environment="test")
        deployed = await api.post(f"{path}/deploy", json={"spec": SPEC})
        assert deployed.status_code == 202, deployed.text
        assert (await operation_ended(api, deployed.json()["id"]))["status"] == "succeeded"
        try:
            async with driving(Load({"local": kube}, system)) as load:
                load.total = 250
                await count_reaches(api, path, 5)
                before = len(await autoscale_ops(api, path))
                started = await api.post(
                    f"{path}/releases",
                    json={"changes": {"image": "registry.local/shop/web:2"}, "steps": ["20%", "pause", "100%"]},
                )
                assert started.status_code == 202, started.text
                release_path = f"{path}/releases/{started.json()['id']}"

                async def release_at(total: int) -> dict[str, Any]:
                    async def check() -> dict[str, Any] | Not:
                        got: dict[str, Any] = (await api.get(release_path)).json()
                        live = await versions(kube, system)
                        seen = (got["status"], got["step"], got["total"], got["new_instances"], dict(live))
                        new = -(-total // 5)  # 20 %, rounded up
                        want = {"2": new, "1": total - new}
                        ok = got["status"] == "paused" and got["step"] == 1 and got["total"] == total
                        return got if ok and live == want and got["new_instances"] == new else Not(seen)

                    return await eventually(check, f"the release at {total} instances", timeout=SCALING)

                at_5 = await release_at(5)
                assert (at_5["new_instances"], at_5["stable_instances"]) == (1, 4)

                raised = time.time()
                load.total = 500
                at_10 = await release_at(10)
                print(f"\nduring the release, 500m: 10 instances (2 new / 8 stable) {time.time() - raised:.1f}s after")
                assert (at_10["new_instances"], at_10["stable_instances"]) == (2, 8)
                scaled = [e for e in at_10["ledger"] if e.get("event") == "scale"]
                assert scaled, at_10["ledger"]
                assert {e["by"] for e in scaled} == {"autoscaler"}, at_10["ledger"]
                assert scaled[-1]["to"] == 10
                assert (await api.get(f"{path}/autoscale")).json()["instances"] == 10

                lowered = time.time()
                load.total = 250
                back = await release_at(5)
                print(f"during the release, 250m: 5 instances (1 / 4) {time.time() - lowered:.1f}s after")
                assert (back["new_instances"], back["stable_instances"]) == (1, 4)
                # The release's totals are in its ledger (and the audit trail), not in operations.
                assert len(await autoscale_ops(api, path)) == before
        finally:
            await api.delete(path)


async def test_during_a_gray_release_across_the_two_clusters_the_total_follows_the_load_and_the_split_holds(
    sandbox: Sandbox, second_sandbox: Sandbox, server: ServerProcess, kube: KubeCluster, kube_b: KubeCluster
) -> None:
    """The issue's "Done when" across clusters: the release paused at 20 % on ``b`` (``local`` not
    begun) takes 2 → 12 as b 4 (1 new / 3 stable) and local 8 (stable); promoted on ``b``, paused at
    20 % on ``local``: 12 → 6 as b 2 (new) and local 4 (1 new / 3 stable); promoted to its end, the
    group runs the new version at 6 (4 / 2)."""
    system = f"asr{uuid.uuid4().hex[:8]}"
    kubes = {"local": kube, "b": kube_b}
    async with (
        httpx.AsyncClient(base_url=server.url, headers=ADMIN, timeout=30.0) as api,
        room_pool({"local": (kube, 4), "b": (kube_b, 2)}, ROOM) as pool,
    ):
        path = await deployed_on_both(api, sandbox, second_sandbox, system, pool)
        try:
            async with driving(Load(kubes, system)) as load:
                started = await api.post(
                    f"{path}/releases",
                    json={"changes": {"image": "registry.local/shop/web:2"}, "steps": ["20%", "pause", "100%"]},
                )
                assert started.status_code == 202, started.text
                release_path = f"{path}/releases/{started.json()['id']}"

                async def release_at(index: int, runs: dict[str, dict[str, int]]) -> dict[str, Any]:
                    """The release paused at 20 % on its cluster ``index``, each cluster's live instances
                    by version as ``runs`` says and the release's counts adding up to them."""

                    async def check() -> dict[str, Any] | Not:
                        got: dict[str, Any] = (await api.get(release_path)).json()
                        live = {name: dict(await versions(client, system)) for name, client in kubes.items()}
                        counts = {c["cluster"]: c["instances"] for c in got["clusters"]}
                        seen = (got["status"], got["cluster_index"], got["step"], counts, live)
                        ok = got["status"] == "paused" and (got["cluster_index"], got["step"]) == (index, 1)
                        wanted = {name: sum(by_version.values()) for name, by_version in runs.items()}
                        return got if ok and live == runs and counts == wanted else Not(seen)

                    return await eventually(check, f"the release at {runs}", timeout=SCALING)

                at_2 = await release_at(0, {"b": {"2": 1}, "local": {"1": 1}})
                assert [c["cluster"] for c in at_2["clusters"]] == ["b", "local"], at_2

                raised = time.time()
                load.total = 600
                at_12 = await release_at(0, {"b": {"2": 1, "1": 3}, "local": {"1": 8}})
                print(
                    f"\nrelease on b, 600m: 12 (b 1 new / 3 stable, local 8 stable) {time.time() - raised:.1f}s after"
                )
                assert (at_12["total"], at_12["new_instances"], at_12["stable_instances"]) == (4, 1, 3)
                scaled = [e for e in at_12["ledger"] if e.get("event") == "scale"]
                assert scaled, at_12["ledger"]
                assert {e["by"] for e in scaled} == {"autoscaler"}, scaled
                assert (scaled[0]["from"], scaled[-1]["to"]) == (2, 12), scaled
                assert all(set(e["clusters"]) <= {"b", "local"} for e in scaled), scaled
                assert (await api.get(f"{path}/autoscale")).json()["instances"] == 12

                promoted = await api.post(f"{release_path}/promote", json={})
                assert promoted.status_code == 200, promoted.text
                await release_at(1, {"b": {"2": 4}, "local": {"2": 2, "1": 6}})

                lowered = time.time()
                load.total = 300
                at_6 = await release_at(1, {"b": {"2": 2}, "local": {"2": 1, "1": 3}})
                print(f"release on local, 300m: 6 (b 2 new, local 1 new / 3 stable) {time.time() - lowered:.1f}s after")
                assert (at_6["total"], at_6["new_instances"], at_6["stable_instances"]) == (4, 1, 3)
                b_scaled = [e for e in at_6["ledger"] if e.get("event") == "cluster-scaled" and e["cluster"] == "b"]
                assert b_scaled, at_6["ledger"]
                assert (b_scaled[-1]["instances"], b_scaled[-1].get("error")) == (2, None), b_scaled
                # The release's totals are in its ledger (and the audit trail), not in operations.
                assert await autoscale_ops(api, path) == []

                promoted = await api.post(f"{release_path}/promote", json={})
                assert promoted.status_code == 200, promoted.text
                group = await count_reaches(api, path, 6)
                assert split_of(group) == {"local": 4, "b": 2}
                assert (await api.get(release_path)).json()["status"] == "succeeded"
                assert (dict(await versions(kube, system)), dict(await versions(kube_b, system))) == (
                    {"2": 4},
                    {"2": 2},
                )
        finally:
            await api.delete(path)
            for client in (kube, kube_b):
                with contextlib.suppress(Exception):
                    await client.delete("v1", "Namespace", system)
