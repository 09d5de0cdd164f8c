"""The global names' follower and a group's name, against fakes of the live view and the records port."""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import pytest

from dockyard.domain.access import Principal
from dockyard.domain.clusters import Cluster
from dockyard.domain.errors import NotFound
from dockyard.domain.failures import DnsFailure
from dockyard.domain.live import PodRecord
from dockyard.domain.model import Group, GroupCluster, GroupPath
from dockyard.services import discovery, ports
from dockyard.services.platform import BuildConfig, Config, Platform
from tests.unit.records import pod_record
from tests.unit.services.test_ports import FakeDatabase, Store, Unused

ADMIN = Principal("root", admin=True)
PROD = GroupPath("shop", "web", "prod")
NAME = "prod.web.shop.dockyard.internal"
POD = pod_record(name="web-prod-a")


@dataclass
class FakeLive:
    """Every cluster's instances; ``revision`` moves with each change, as the watch caches' does."""

    by_cluster: dict[str, list[PodRecord]] = field(default_factory=dict)
    revisions: dict[str, int] = field(default_factory=dict)
    reads: int = 0

    def set(self, cluster: str, *pods: PodRecord) -> None:
        self.by_cluster[cluster] = list(pods)
        self.revisions[cluster] = self.revisions.get(cluster, 0) + 1

    def instances(self, cluster: str) -> list[PodRecord]:
        self.reads += 1
        return self.by_cluster.get(cluster, [])

    def revision(self, cluster: str) -> int:
        return self.revisions.get(cluster, 0)

    def pods(self, cluster: str, group: GroupPath) -> list[PodRecord]:
        return [p for p in self.by_cluster.get(cluster, []) if p.key == (group.system, group.app, group.group)]


@dataclass
class FakeRecords:
    writes: list[dict[str, str]] = field(default_factory=list)
    fail: int = 0  # how many of the next writes fail

    def write(self, files: dict[str, str]) -> list[str]:
        if self.fail:
            self.fail -= 1
            raise DnsFailure("disk full")
        self.writes.append(dict(files))
        return sorted(files)


def platform(store: Store, live: FakeLive) -> Platform:
    return Platform(
        db=FakeDatabase(store),
        clusters=cast(ports.ClusterClients, Unused("clusters")),
        live=cast(ports.LiveView, live),
        box=cast(ports.SecretBox, Unused("box")),
        registries=cast(ports.Registries, Unused("registries")),
        builder=cast(ports.Builder, Unused("builder")),
        sources=cast(ports.Sources, Unused("sources")),
        config=Config(builds=BuildConfig(work_dir=Path("/nonexistent"))),
    )


async def until(check: object, timeout: float = 2.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if not line.startswith("#")]


async def test_follower_writes_records_when_instances_change_and_only_then() -> None:
    store = Store(clusters=[Cluster("ca", "k", {"idc": "a"}), Cluster("cb", "k", {"idc": "b"})])
    live = FakeLive()
    live.set("ca", POD)
    live.set("cb", dataclasses.replace(POD, name="web-prod-b", pod_ip="10.129.0.7"))
    records = FakeRecords()
    task = asyncio.create_task(discovery.follow(platform(store, live), records, every=0.01))
    try:
        await until(lambda: records.writes)
        first = records.writes[0]
        assert sorted(first) == ["all-idcs.hosts", "idc-a.hosts", "idc-b.hosts"]
        assert lines(first["idc-a.hosts"]) == [f"10.128.0.5 {NAME}", f"10.129.0.7 {NAME}"]
        assert lines(first["idc-b.hosts"]) == [f"10.129.0.7 {NAME}", f"10.128.0.5 {NAME}"]

        await asyncio.sleep(0.1)  # nothing changed: no recomputation, no write
        assert len(records.writes) == 1
        reads = live.reads

        live.set("ca", dataclasses.replace(POD, ready=False))  # not ready any more
        await until(lambda: len(records.writes) == 2)
        assert live.reads > reads
        assert lines(records.writes[1]["idc-a.hosts"]) == [f"10.129.0.7 {NAME}"]
    finally:
        task.cancel()


async def test_follower_tries_a_failed_write_again() -> None:
    store = Store(clusters=[Cluster("ca", "k", {"idc": "a"})])
    live = FakeLive()
    live.set("ca", POD)
    records = FakeRecords(fail=2)
    task = asyncio.create_task(discovery.follow(platform(store, live), records, every=0.01))
    try:
        await until(lambda: records.writes)
        assert lines(records.writes[0]["idc-a.hosts"]) == [f"10.128.0.5 {NAME}"]
    finally:
        task.cancel()


async def test_follower_sees_clusters_registered_later() -> None:
    store = Store(clusters=[])
    live = FakeLive()
    live.set("ca", POD)
    records = FakeRecords()
    task = asyncio.create_task(discovery.follow(platform(store, live), records, every=0.01, clusters_every=0.05))
    try:
        await until(lambda: records.writes)
        assert lines(records.writes[0]["all-idcs.hosts"]) == []
        store.clusters.append(Cluster("ca", "k", {"idc": "a"}))
        await until(lambda: any(lines(w["all-idcs.hosts"]) for w in records.writes))
    finally:
        task.cancel()


def group_store() -> Store:
    store = Store(clusters=[Cluster("ca", "k", {"idc": "a"}), Cluster("cb", "k", {"idc": "b"})])
    store.groups[PROD] = Group(
        "shop", "web", "prod", "prod", "ca", clusters=(GroupCluster("ca", 1, 1), GroupCluster("cb", 1, 1))
    )
    return store


async def test_group_name_tells_the_name_and_the_ready_answers() -> None:
    live = FakeLive()
    live.set("cb", dataclasses.replace(POD, pod_ip="10.129.0.7"), dataclasses.replace(POD, name="x", ready=False))
    live.set("ca", POD)
    found = await discovery.group_name(platform(group_store(), live), ADMIN, PROD)
    assert found.name == NAME
    assert found.answers == [discovery.Answer("ca", "a", "10.128.0.5"), discovery.Answer("cb", "b", "10.129.0.7")]


async def test_group_name_is_hidden_from_outsiders_and_missing_groups_are_not_found() -> None:
    live = FakeLive()
    with pytest.raises(NotFound):
        await discovery.group_name(platform(group_store(), live), Principal("eve"), PROD)
    with pytest.raises(NotFound, match="does not exist"):
        await discovery.group_name(platform(group_store(), live), ADMIN, GroupPath("shop", "web", "gone"))


async def test_a_starting_follower_writes_nothing_before_every_cluster_was_listed() -> None:
    store = Store(clusters=[Cluster("ca", "k", {"idc": "a"}), Cluster("cb", "k", {"idc": "b"})])
    live = FakeLive()
    live.set("ca", POD)  # cb's instances not listed yet: revision 0
    records = FakeRecords()
    task = asyncio.create_task(discovery.follow(platform(store, live), records, every=0.01))
    try:
        await asyncio.sleep(0.1)
        assert records.writes == []  # the published names stay as they were
        live.set("cb")
        await until(lambda: records.writes)
    finally:
        task.cancel()


async def test_a_cluster_that_stays_away_does_not_hold_the_others_back_for_ever() -> None:
    store = Store(clusters=[Cluster("ca", "k", {"idc": "a"}), Cluster("cb", "k", {"idc": "b"})])
    live = FakeLive()
    live.set("ca", POD)
    records = FakeRecords()
    task = asyncio.create_task(discovery.follow(platform(store, live), records, every=0.01, sync_grace=0.1))
    try:
        await until(lambda: records.writes)
        assert lines(records.writes[0]["idc-b.hosts"]) == [f"10.128.0.5 {NAME}"]
    finally:
        task.cancel()
