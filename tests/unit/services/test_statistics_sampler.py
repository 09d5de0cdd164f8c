"""The statistics sampler on fakes of its ports: which pods count, usage joined by (cluster,
namespace, pod), Prometheus away (billed as requested, unmeasured), steps that must be aligned, and
what a viewer's report holds."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, cast

import pytest

from dockyard.domain.access import Principal
from dockyard.domain.capacity import Usage
from dockyard.domain.clusters import Cluster
from dockyard.domain.errors import InvalidInput, NotFound
from dockyard.domain.failures import MetricsUnavailable
from dockyard.domain.metrics import Series
from dockyard.domain.model import System
from dockyard.domain.statistics import Amounts, Price, Row
from dockyard.services import statistics
from dockyard.services.platform import Platform

GI = 2**30
AT = int(dt.datetime(2026, 12, 1, 10, tzinfo=dt.UTC).timestamp())
DAY = dt.date(2026, 12, 1)


def pod(name: str, *, node: str = "n1", app: str = "web", group: str = "prod", deleting: bool = False) -> Usage:
    return Usage("shop", name, node, "Running", 500, GI, 0, app, group, "", None, deleting)


PODS = [
    pod("p1"),
    pod("p2"),
    pod("pending", node=""),  # holds no node: not counted
    pod("bare", app="", group=""),  # not a Dockyard group's
    pod("leaving", deleting=True),
]


class FakeUsages:
    def in_namespace(self, namespace: str) -> Iterable[Usage]:
        return PODS if namespace == "shop" else []


class FakeLive:
    def capacity(self, cluster: str) -> Any:
        return type("C", (), {"synced": True, "usage": FakeUsages(), "nodes": []})()


class FakeMetrics:
    def __init__(self, up: bool) -> None:
        self.up = up
        self.at: list[float] = []

    async def query(self, promql: str, *, at: float) -> list[Series]:
        self.at.append(at)
        if not self.up:
            raise MetricsUnavailable("Prometheus at http://p cannot be reached")
        value = 0.25 if "cpu" in promql else GI / 2
        labels = {"cluster": "a", "namespace": "shop"}
        return [Series({**labels, "pod": "p1"}, [(at, value)])]  # p2 has no series yet


@dataclass
class Store:
    steps: list[dict[str, Any]] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)


class FakeDb:
    def __init__(self, store: Store) -> None:
        self.store = store

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[Any]:
        store = self.store

        class Clusters:
            async def all(self) -> list[Cluster]:
                return [Cluster("a", "k", {"idc": "bj"})]

        class Systems:
            async def all(self) -> list[System]:
                return [cast(System, type("S", (), {"name": "shop"})())]

        class Stats:
            async def add_step(self, **kw: Any) -> None:
                store.steps.append(kw)

            async def group_days(self, *, first: dt.date, last: dt.date, systems: Any = None) -> list[Row]:
                return [r for r in store.rows if systems is None or r.system in systems]

            async def prices(self) -> list[Price]:
                return []

            async def steps(self, *, since: int, until: int) -> list[tuple[int, int, bool]]:
                return []

        yield type("U", (), {"clusters": Clusters(), "systems": Systems(), "statistics": Stats()})()


def platform(store: Store, *, up: bool = True) -> Platform:
    return cast(Platform, type("P", (), {"db": FakeDb(store), "live": FakeLive(), "metrics": FakeMetrics(up)})())


async def test_a_step_counts_bound_group_pods_with_their_usage() -> None:
    store = Store()
    p = platform(store)
    assert await statistics.sample(p, at=AT, step=60) == 2
    assert cast(Any, p.metrics).at == [AT + 60, AT + 60]  # the usage at the step's end
    step = store.steps[0]
    assert (step["at"], step["step"], step["measured"]) == (AT, 60, True)
    by_pod = {r.instance: r.amounts for r in step["instances"]}
    assert by_pod["p1"] == Amounts(500 * 60, 250 * 60, 500 * 60, GI * 60, GI // 2 * 60, GI * 60, 60, 0)
    assert by_pod["p2"] == Amounts(500 * 60, 0, 500 * 60, GI * 60, 0, GI * 60, 60, 60)  # not measured yet
    [group] = step["groups"]
    assert (group.cluster, group.idc, group.system, group.app, group.group) == ("a", "bj", "shop", "web", "prod")
    assert group.amounts == by_pod["p1"] + by_pod["p2"]


async def test_prometheus_away_bills_what_was_requested() -> None:
    store = Store()
    await statistics.sample(platform(store, up=False), at=AT, step=60)
    step = store.steps[0]
    assert step["measured"] is False
    assert all(r.amounts.unmeasured == 60 and r.amounts.cpu_billed == 500 * 60 for r in step["instances"])


@pytest.mark.parametrize(("at", "step", "field"), [(AT + 7, 60, "at"), (AT, 7, "step")])
async def test_a_step_is_aligned_and_divides_a_day(at: int, step: int, field: str) -> None:
    with pytest.raises(InvalidInput) as e:
        await statistics.sample(platform(Store()), at=at, step=step)
    assert e.value.field == field


async def test_a_viewer_gets_the_rows_of_their_systems_only() -> None:
    store = Store(
        rows=[
            Row(DAY, "shop", "web", "prod", "a", "bj", amounts=Amounts(cpu_requested=1)),
            Row(DAY, "shop", "api", "prod", "a", "bj", amounts=Amounts(cpu_requested=2)),
            Row(DAY, "bank", "core", "prod", "a", "bj", amounts=Amounts(cpu_requested=4)),
        ]
    )
    p = platform(store)
    viewer = Principal(name="v", roles={"shop": "viewer"})
    report = await statistics.report(p, viewer, scope=statistics.Scope(), level="app", first=DAY, last=DAY)
    assert [(r.system, r.app) for r in report.rows] == [("shop", "api"), ("shop", "web")]
    one_app = Principal(name="w", app_roles={("shop", "web"): "viewer"})
    report = await statistics.report(p, one_app, scope=statistics.Scope("shop"), level="app", first=DAY, last=DAY)
    assert [(r.system, r.app) for r in report.rows] == [("shop", "web")]
    with pytest.raises(NotFound):
        await statistics.report(p, viewer, scope=statistics.Scope("bank"), level="app", first=DAY, last=DAY)
    admin = Principal(name="root", admin=True)
    report = await statistics.report(p, admin, scope=statistics.Scope(), level="idc", first=DAY, last=DAY)
    assert [r.amounts.cpu_requested for r in report.rows] == [7]
