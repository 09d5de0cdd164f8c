"""Resource statistics end to end: KWOK instances with set requests and set usage rates → the sandbox's
Prometheus and Dockyard's roll-up rules → the sampler (driven by the test over an injected window of
past steps, with an in-process server's watch caches) → daily rows → the API.

The day's rows equal the closed-form values (requests × seconds exactly, usage × seconds within
0.1 %), every level is the exact sum of the level below (instance → group → app → system → IDC), the
costs follow the cluster's prices, a viewer sees only their system's rows and 404 for another's.
Runs once, on SQLite; the repository's step arithmetic, whose subject is the database, runs on both.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from dockyard.adapters.db.database import Database
from dockyard.adapters.kube.client import KubeCluster
from dockyard.domain.failures import DatabaseConflict
from dockyard.domain.statistics import (
    BYTE_SECONDS_PER_GIB_HOUR,
    MILLI_CORE_SECONDS_PER_CORE_HOUR,
    Amounts,
    Row,
    day_of,
)
from dockyard.sandbox import monitoring
from dockyard.services import statistics
from tests.integration.harness.client import create, create_group, register_cluster
from tests.integration.harness.sandboxes import Sandbox
from tests.integration.harness.servers import ServerProcess, in_process, process_env, server_process, settings
from tests.integration.harness.tokens import ADMIN, user_with_token
from tests.integration.harness.waiting import Not, eventually

pytestmark = pytest.mark.integration
SCRAPE_TOKEN = "dym_" + "s" * 40
IDC = "idc-s"
MI = 2**20
STEP = 10
STEPS = 6  # the injected window: six steps of 10 s
# name: (app, group, CPU request m, memory request bytes, CPU use m, working set bytes)
PODS: dict[str, tuple[str, str, int, int, int, int]] = {
    "p1": ("web", "prod", 500, 256 * MI, 250, 128 * MI),
    "p2": ("web", "prod", 500, 256 * MI, 750, 300 * MI),  # above its requests: billed as used
    "g1": ("web", "gray", 200, 128 * MI, 100, 64 * MI),
    "a1": ("api", "prod", 1000, 1024 * MI, 100, 200 * MI),
}
OTHER = {"o1": ("web", "prod", 300, 64 * MI, 30, 32 * MI)}
PRICE = {"core_hour": "0.05", "gib_hour": "0.01"}


@pytest.fixture
def server(sandbox: Sandbox, database_url: str, tmp_path: Path) -> Iterator[ServerProcess]:
    """A server process exporting the join table to the sandbox's Prometheus (no executor: no sampler)."""
    env = process_env(
        database_url,
        tmp_path,
        DOCKYARD_PROMETHEUS_URL=f"http://127.0.0.1:{sandbox.ports.prometheus}",
        DOCKYARD_METRICS_TOKEN=SCRAPE_TOKEN,
        DOCKYARD_EXECUTOR="false",
    )
    with server_process(env, tmp_path / "server.log") as process:
        monitoring.register_dockyard(sandbox.layout, address=f"127.0.0.1:{process.port}", token=SCRAPE_TOKEN)
        try:
            yield process
        finally:
            monitoring.unregister_dockyard(sandbox.layout)


def _pod(system: str, name: str, place: tuple[str, str, int, int, int, int]) -> dict[str, Any]:
    app, group, cpu, memory, use, working = place
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": system,
            "labels": {"dockyard.io/app": app, "dockyard.io/group": group, "dockyard.io/version": "1"},
            "annotations": {"kwok.x-k8s.io/usage-cpu": f"{use}m", "kwok.x-k8s.io/usage-memory": str(working)},
        },
        "spec": {
            "containers": [
                {
                    "name": app,
                    "image": "registry.local/shop/web:1",
                    "resources": {"requests": {"cpu": f"{cpu}m", "memory": str(memory)}},
                }
            ]
        },
    }


def _amounts(row: dict[str, Any]) -> Amounts:
    return Amounts(*(row[f] for f in Amounts.__dataclass_fields__))


def _expected(pods: dict[str, tuple[str, str, int, int, int, int]]) -> Amounts:
    seconds = STEP * STEPS
    total = Amounts()
    for _, _, cpu, memory, use, working in pods.values():
        total += Amounts(
            cpu * seconds, use * seconds, max(cpu, use) * seconds,
            memory * seconds, working * seconds, max(memory, working) * seconds,
            seconds, 0,
        )  # fmt: skip
    return total


def _close(got: int, want: int) -> bool:
    return abs(got - want) <= want * 0.001


async def test_a_day_of_known_requests_and_rates_is_counted_exactly_and_adds_up(
    sandbox: Sandbox, server: ServerProcess, kube: KubeCluster, database_url: str, tmp_path: Path
) -> None:
    system, other = f"st{uuid.uuid4().hex[:6]}", f"so{uuid.uuid4().hex[:6]}"
    prom_url = f"http://127.0.0.1:{sandbox.ports.prometheus}"
    async with (
        httpx.AsyncClient(base_url=server.url, headers=ADMIN, timeout=30.0) as api,
        httpx.AsyncClient(base_url=prom_url, timeout=30.0) as prom,
    ):
        await register_cluster(api, sandbox, labels={"idc": IDC})
        await create_group(api, system)
        base = f"/api/v1/systems/{system}"
        await create(
            api,
            (f"{base}/apps/web/groups", {"name": "gray", "environment": "prod", "cluster": "local"}),
            (f"{base}/apps", {"name": "api", "repository": "registry.local/shop/api"}),
            (f"{base}/apps/api/groups", {"name": "prod", "environment": "prod", "cluster": "local"}),
        )
        await create_group(api, other)
        config = settings(
            database_url,
            tmp_path / "in-process",
            prometheus_url=prom_url,
            executor=False,
            secret_key_file=tmp_path / "secret-key",  # the server process's key: one database, one key
        )
        (tmp_path / "in-process").mkdir()
        async with in_process(config, headers=ADMIN) as local:
            for namespace, pods in ((system, PODS), (other, OTHER)):
                await kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
                for name, place in pods.items():
                    await kube.apply(_pod(namespace, name, place))
            try:
                await _measured_as_set(
                    prom, {**{(system, n): p for n, p in PODS.items()}, **{(other, n): p for n, p in OTHER.items()}}
                )
                await _cached(local, {system: len(PODS), other: len(OTHER)})
                # The window: the last STEPS whole steps, all after the rates settled (checked above).
                end = int(time.time() // STEP) * STEP
                steps = [end - STEP * (STEPS - i) for i in range(STEPS)]
                for at in steps:
                    counted = await statistics.sample(local.platform, at=at, step=STEP, runner="test")
                    assert counted >= len(PODS) + len(OTHER)
                with pytest.raises(DatabaseConflict):  # a step counts once
                    await statistics.sample(local.platform, at=steps[0], step=STEP, runner="another")
                first, last = day_of(steps[0]).isoformat(), day_of(steps[-1]).isoformat()
                period = {"from": first, "to": last}
                priced = await api.put("/api/v1/clusters/local/price", json={**PRICE, "since": first})
                assert priced.status_code == 200, priced.text

                # Closed form, per group and for the system.
                groups = (await api.get(f"{base}/statistics", params={**period, "level": "group"})).json()
                assert groups["sampled_seconds"] == STEP * STEPS
                assert groups["measured_seconds"] == STEP * STEPS
                by_group = {(r["app"], r["group"]): r for r in groups["rows"]}
                assert set(by_group) == {("web", "prod"), ("web", "gray"), ("api", "prod")}
                for (app, group), row in by_group.items():
                    want = _expected({n: p for n, p in PODS.items() if p[:2] == (app, group)})
                    got = _amounts(row)
                    for name in ("cpu_requested", "memory_requested", "seconds", "unmeasured"):
                        assert getattr(got, name) == getattr(want, name), (app, group, name)
                    for name in ("cpu_used", "cpu_billed", "memory_used", "memory_billed"):
                        assert _close(getattr(got, name), getattr(want, name)), (app, group, name, got, want)
                    assert (row["idc"], row["cluster"]) == ("", "")
                prod = by_group[("web", "prod")]
                assert (
                    prod["cpu_requested_core_hours"] == f"{Decimal(1000 * 60) / MILLI_CORE_SECONDS_PER_CORE_HOUR:.6f}"
                )

                # Σ instances = group, Σ groups = app, Σ apps = system, Σ systems (of the IDC) = IDC: exactly.
                for (app, group), row in by_group.items():
                    instances = (await api.get(f"{base}/apps/{app}/groups/{group}/statistics", params=period)).json()[
                        "rows"
                    ]
                    assert {r["instance"] for r in instances} == {n for n, p in PODS.items() if p[:2] == (app, group)}
                    assert sum((_amounts(r) for r in instances), Amounts()) == _amounts(row)
                    assert sum(Decimal(r["cost"]) for r in instances) >= 0
                apps = (await api.get(f"{base}/statistics", params={**period, "level": "app"})).json()["rows"]
                for app in apps:
                    assert sum(
                        (_amounts(r) for (a, _), r in by_group.items() if a == app["app"]), Amounts()
                    ) == _amounts(app)
                    assert sum(Decimal(r["cost"]) for (a, _), r in by_group.items() if a == app["app"]) == Decimal(
                        app["cost"]
                    )
                systems = (await api.get("/api/v1/statistics", params={**period, "level": "system"})).json()["rows"]
                mine = {r["system"]: r for r in systems if r["system"] in (system, other)}
                assert _amounts(mine[system]) == sum((_amounts(r) for r in apps), Amounts())
                idcs = (await api.get("/api/v1/statistics", params={**period, "level": "idc"})).json()["rows"]
                assert [r["idc"] for r in idcs] == [IDC]  # a fresh database: only this test's systems
                assert set(mine) == {r["system"] for r in systems}
                assert _amounts(idcs[0]) == _amounts(mine[system]) + _amounts(mine[other])
                assert Decimal(idcs[0]["cost"]) == Decimal(mine[system]["cost"]) + Decimal(mine[other]["cost"])

                # The cost: billed × prices (each group row rounded to 1e-6), within 0.1 % of the closed form.
                everything = _expected(PODS)
                closed = Decimal(everything.cpu_billed) / MILLI_CORE_SECONDS_PER_CORE_HOUR * Decimal(
                    PRICE["core_hour"]
                ) + Decimal(everything.memory_billed) / BYTE_SECONDS_PER_GIB_HOUR * Decimal(PRICE["gib_hour"])
                assert abs(Decimal(mine[system]["cost"]) - closed) <= closed * Decimal("0.001") + Decimal("0.000003")

                # A viewer of one system sees its rows only, and 404 for the other.
                name = f"viewer-{uuid.uuid4().hex[:6]}"
                viewer = await user_with_token(api, name)
                bound = await api.put(f"/api/v1/systems/{system}/members/{name}", json={"role": "viewer"})
                assert bound.status_code in (200, 201), bound.text
                seen = (await api.get("/api/v1/statistics", params={**period, "level": "group"}, headers=viewer)).json()
                assert {r["system"] for r in seen["rows"]} == {system}
                hidden = await api.get(f"/api/v1/systems/{other}/statistics", params=period, headers=viewer)
                assert hidden.status_code == 404, hidden.text
                hidden = await api.get(f"/api/v1/systems/{other}/apps/web/groups/prod/statistics", headers=viewer)
                assert hidden.status_code == 404, hidden.text
                assert (await api.get(f"{base}/statistics", params=period, headers=viewer)).status_code == 200
                grown = (await api.get("/api/v1/statistics/growth", params=period, headers=viewer)).json()
                assert {r["system"] for r in grown["rows"]} == {system}
                denied = await api.get("/api/v1/clusters/local/statistics/without-nodes", headers=viewer)
                assert denied.status_code == 403, denied.text
                lost = await api.get("/api/v1/clusters/local/statistics/without-nodes", params={"count": 1})
                assert lost.status_code == 200, lost.text
                assert len(lost.json()["nodes"]) == 1
            finally:
                for namespace in (system, other):
                    await kube.delete("v1", "Namespace", namespace)


async def _measured_as_set(
    prom: httpx.AsyncClient, pods: dict[tuple[str, str], tuple[str, str, int, int, int, int]]
) -> float:
    """Until every pod's roll-up series show its set rates, and did for the whole window to come."""

    async def settled() -> float | Not:
        now = time.time()
        wrong = []
        for series, index in ((statistics.CPU_SERIES, 4), (statistics.MEMORY_SERIES, 5)):
            answer = await prom.get(
                "/api/v1/query_range",
                params={"query": series, "start": now - STEP * (STEPS + 1), "end": now, "step": STEP},
            )
            found = {
                (r["metric"].get("namespace"), r["metric"].get("pod")): [float(v) for _, v in r["values"]]
                for r in answer.json()["data"]["result"]
            }
            for key, (_, _, _, _, use, working) in pods.items():
                want = use / 1000 if index == 4 else float(working)
                values = found.get(key, [])
                if len(values) < STEPS + 1 or any(abs(v - want) > want * 0.0005 for v in values):
                    wrong.append((key, series, values[-3:]))
        return time.monotonic() if not wrong else Not(wrong[:4])

    return await eventually(settled, "every instance's usage as set for a whole window", timeout=240.0)


async def _cached(local: Any, counts: dict[str, int]) -> float:
    async def seen() -> float | Not:
        capacity = local.platform.live.capacity("local")
        found = {ns: len([p for p in capacity.usage.in_namespace(ns) if p.node]) for ns in counts}
        return time.monotonic() if capacity.synced and found == counts else Not(found)

    return await eventually(seen, "the in-process watch caches hold every instance", timeout=60.0)


@pytest.mark.both_databases
async def test_a_step_is_added_to_its_day_once(database_url: str) -> None:
    db = Database(database_url)
    try:
        await db.upgrade()
        day = dt.date(2026, 12, 1)
        big = Amounts(2**40, 2**39, 2**40, 2**62, 2**61, 2**62, 86400, 0)  # 48 TiB for a day: still exact

        def rows(amounts: Amounts) -> tuple[list[Row], list[Row]]:
            instance = Row(day, "shop", "web", "prod", "local", "idc-a", "p1", amounts=amounts)
            group = Row(day, "shop", "web", "prod", "local", "idc-a", amounts=amounts)
            return [instance], [group]

        at = int(dt.datetime(2026, 12, 1, tzinfo=dt.UTC).timestamp())
        for i in range(2):
            instances, groups = rows(Amounts(1, 2, 3, 4, 5, 6, 7, 8) if i else big)
            async with db.unit_of_work() as uow:
                await uow.statistics.add_step(
                    at=at + 60 * i, step=60, measured=True, runner="a", instances=instances, groups=groups
                )
        with pytest.raises(DatabaseConflict):
            async with db.unit_of_work() as uow:
                await uow.statistics.add_step(at=at, step=60, measured=True, runner="b", instances=[], groups=[])
        async with db.unit_of_work() as uow:
            found = await uow.statistics.group_days(first=day, last=day)
            inst = await uow.statistics.instance_days(first=day, last=day, system="shop", app="web", group="prod")
            steps = await uow.statistics.steps(since=at, until=at + 86400)
            assert await uow.statistics.group_days(first=day, last=day, systems=["other"]) == []
        want = big + Amounts(1, 2, 3, 4, 5, 6, 7, 8)
        assert [r.amounts for r in found] == [want]
        assert [r.amounts for r in inst] == [want]
        assert [(r.idc, r.cluster, r.instance) for r in inst] == [("idc-a", "local", "p1")]
        assert steps == [(at, 60, True), (at + 60, 60, True)]
    finally:
        await db.dispose()
