"""The edge sync's rounds on fakes of its ports: routes from the watch caches every round, the
database's facts reloaded only when due (or when an entry changed), version specs loaded once."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, cast

from dockyard.domain.edge import EdgeRoute, EdgeWrite
from dockyard.domain.live import PodRecord
from dockyard.domain.model import Group, GroupCluster, GroupPath, Version
from dockyard.domain.release import Release
from dockyard.domain.versions import parse_spec
from dockyard.services import ports
from dockyard.services.edge import _Facts, run_edge, sync_once
from dockyard.services.platform import Platform

PATH = GroupPath("shop", "web", "prod")
NOW = dt.datetime(2026, 12, 2, tzinfo=dt.UTC)
SPEC = parse_spec(
    {
        "image": "r.local/shop/web:1",
        "flavor": "tiny",
        "instances": 2,
        "ports": [{"name": "http", "port": 8080}],
        "readiness": {"port": 8080, "path": "/ready"},
    }
)
GROUP = Group("shop", "web", "prod", "prod", "local", 1, 1, (GroupCluster("local", 2, 1), GroupCluster("b", 1, 1)), "")


def pod(name: str, ip: str, **changes: Any) -> PodRecord:
    made = PodRecord("shop", name, name, "web", "prod", "1", "Running", True, 0, ip, "h", "n", 0.0, "", False)
    return dataclasses.replace(made, **changes)


class FakeDb:
    def __init__(self) -> None:
        self.groups = [GROUP]
        self.releases: list[Release] = []
        self.loads = 0
        self.version_reads = 0

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[Any]:
        db = self

        class Groups:
            async def with_edge(self) -> list[Group]:
                db.loads += 1
                return db.groups

        class Releases:
            async def active(self) -> list[Any]:
                return db.releases

        class Versions:
            async def get(self, path: GroupPath, number: int) -> Version | None:
                db.version_reads += 1
                known = number in (1, 2)
                return Version(path.system, path.app, path.group, number, SPEC, "t", NOW) if known else None

        class Uow:
            groups, releases, versions = Groups(), Releases(), Versions()

        yield Uow()


class FakeLive:
    def __init__(self) -> None:
        self.by_cluster: dict[str, list[PodRecord]] = {"local": [], "b": []}

    def pods(self, cluster: str, group: GroupPath) -> list[PodRecord]:
        return self.by_cluster.get(cluster, [])


class FakeEdge:
    def __init__(self) -> None:
        self.applied: list[list[EdgeRoute]] = []

    async def apply(self, routes: Sequence[EdgeRoute]) -> EdgeWrite:
        self.applied.append(list(routes))
        return EdgeWrite()


def platform(db: FakeDb, live: FakeLive, edge: FakeEdge | None) -> Platform:
    none = cast(Any, None)
    return Platform(
        db=cast(ports.Database, db),
        clusters=none,
        live=cast(ports.LiveView, live),
        box=none,
        registries=none,
        builder=none,
        sources=none,
        config=none,
        edge=cast(ports.EdgeBalancer, edge) if edge else None,
    )


def addresses(route: EdgeRoute) -> list[str]:
    return [u.address for u in route.upstreams]


async def test_rounds_follow_the_instances_and_reload_the_database_only_when_due() -> None:
    db, live, edge = FakeDb(), FakeLive(), FakeEdge()
    live.by_cluster = {"local": [pod("a", "10.0.0.1"), pod("b", "10.0.0.2")], "b": [pod("c", "10.1.0.1")]}
    made, facts = platform(db, live, edge), _Facts()
    (route,) = await sync_once(made, facts, refresh=60)
    assert route.host == "prod.web.shop.dockyard.internal"
    assert addresses(route) == ["10.0.0.1:8080", "10.0.0.2:8080", "10.1.0.1:8080"]  # every cluster of the group
    assert route.health is not None
    live.by_cluster["local"][1] = pod("b", "10.0.0.2", deleting=True)  # draining: out at the next round
    (route,) = await sync_once(made, facts, refresh=60)
    assert addresses(route) == ["10.0.0.1:8080", "10.1.0.1:8080"]
    assert (db.loads, db.version_reads) == (1, 1)  # facts not due again; the spec loaded once
    made.edge_changed.set()  # an entry changed in this process: reload at once
    db.groups = []
    assert await sync_once(made, facts, refresh=60) == []
    assert db.loads == 2
    assert len(edge.applied) == 3


async def test_an_instance_of_an_unknown_version_is_left_out() -> None:
    db, live, edge = FakeDb(), FakeLive(), FakeEdge()
    live.by_cluster = {"local": [pod("a", "10.0.0.1"), pod("x", "10.0.0.9", version="7")]}
    (route,) = await sync_once(platform(db, live, edge), refresh=60)
    assert addresses(route) == ["10.0.0.1:8080"]


async def test_no_balancer_no_loop() -> None:
    await asyncio.wait_for(run_edge(platform(FakeDb(), FakeLive(), None)), 1)


def weighted(command: str = "") -> Release:
    """A gray release of version 2 past its ``weight 25%`` step."""
    steps = ("gray 1", "weight 25%", "pause", "100%")
    ledger = (
        {"event": "started"},
        {"event": "step", "step": "gray 1", "index": 0, "new": 1, "stable": 2},
        {"event": "weight", "step": "weight 25%", "index": 1, "weight": 25, "by": "ann"},
    )
    return Release(
        "r1", "shop", "web", "prod", "gray", 1, 2, 3, steps, 2, "paused", True, command, None, ledger, "", "ann"
    )


async def test_a_weight_step_sets_the_new_versions_share_and_abort_takes_it_back() -> None:
    db, live, edge = FakeDb(), FakeLive(), FakeEdge()
    live.by_cluster = {"local": [pod("a", "10.0.0.1"), pod("b", "10.0.0.2"), pod("c", "10.0.0.3", version="2")]}
    db.releases = [weighted()]
    made = platform(db, live, edge)
    (route,) = await sync_once(made, refresh=60)
    assert [(u.version, u.weight) for u in route.upstreams] == [(1, 3), (1, 3), (2, 2)]  # 25 % to version 2
    db.releases = [weighted(command="abort")]  # given, not yet taken: the edge drops version 2 at once
    (route,) = await sync_once(made, refresh=60)
    assert [u.version for u in route.upstreams] == [1, 1]
