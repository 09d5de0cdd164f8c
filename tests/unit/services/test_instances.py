"""One instance's use cases against fakes of their ports: restart deletes only the group's own pod,
log and events read from its cluster, and each refusal changes nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pytest

from dockyard.domain.access import Principal
from dockyard.domain.errors import Conflict, Forbidden, InvalidInput, NotFound, Unavailable
from dockyard.domain.failures import ClusterRefused, ClusterUnavailable
from dockyard.domain.live import Connection, PodRecord
from dockyard.domain.model import GroupPath
from dockyard.services import instances, ports
from dockyard.services.platform import BuildConfig, Config, Platform
from tests.unit.records import pod_record
from tests.unit.services.test_ports import ADMIN, WEB, FakeDatabase, Unused, shop

OTHER = GroupPath("shop", "web", "canary")


@dataclass
class FakeKube:
    """A cluster's pods by (namespace, name), and what its API answers."""

    pods: set[tuple[str, str]]
    log: str = "2026-12-02T10:00:00Z hello\n2026-12-02T10:00:01Z world\n"
    events: list[dict[str, Any]] = field(default_factory=list)
    fail: Exception | None = None
    deleted: list[tuple[str, str]] = field(default_factory=list)
    asked: list[tuple[Any, ...]] = field(default_factory=list)

    async def delete(self, api_version: str, kind: str, name: str, *, namespace: str | None = None) -> bool:
        if self.fail:
            raise self.fail
        assert (api_version, kind) == ("v1", "Pod")
        key = (namespace or "", name)
        if key not in self.pods:
            return False
        self.pods.discard(key)
        self.deleted.append(key)
        return True

    async def pod_log_tail(self, namespace: str, name: str, *, tail_lines: int, previous: bool = False) -> str:
        if self.fail:
            raise self.fail
        self.asked.append(("log", namespace, name, tail_lines, previous))
        return self.log

    async def pod_events(self, namespace: str, name: str) -> tuple[dict[str, Any], ...]:
        if self.fail:
            raise self.fail
        self.asked.append(("events", namespace, name))
        return tuple(self.events)


@dataclass
class FakeClusters:
    kube: FakeKube

    async def client(self, cluster: Any) -> ports.ClusterClient:
        return cast(ports.ClusterClient, self.kube)


@dataclass
class FakeLive:
    by_group: dict[GroupPath, list[PodRecord]]

    def pods(self, cluster: str, group: GroupPath) -> list[PodRecord]:
        return self.by_group.get(group, [])

    def connection(self, cluster: str) -> Connection:
        return Connection(True, "")


class Database(FakeDatabase):
    async def generation(self, name: str) -> int:
        return 1


MINE = pod_record(name="web-prod-a", uid="u1")
THEIRS = pod_record(name="web-canary-a", group="canary")


def platform(kube: FakeKube) -> Platform:
    store = shop(instances=1)
    return Platform(
        db=Database(store),
        clusters=cast(ports.ClusterClients, FakeClusters(kube)),
        live=cast(ports.LiveView, FakeLive({WEB: [MINE], OTHER: [THEIRS]})),
        box=cast(ports.SecretBox, Unused("box")),
        registries=cast(ports.Registries, Unused("registries")),
        builder=cast(ports.Builder, Unused("builder")),
        sources=cast(ports.Sources, Unused("sources")),
        config=Config(builds=BuildConfig(work_dir=Path("/nonexistent"))),
    )


def kube() -> FakeKube:
    return FakeKube({("shop", "web-prod-a"), ("shop", "web-canary-a")})


async def test_restart_deletes_the_instances_pod() -> None:
    cluster = kube()
    where, pod = await instances.restart(platform(cluster), ADMIN, WEB, "web-prod-a")
    assert (where, pod) == ("local", MINE)
    assert cluster.deleted == [("shop", "web-prod-a")]


@pytest.mark.parametrize("name", ["web-canary-a", "web-prod-zz", "kube-apiserver"])
async def test_restart_of_anything_but_the_groups_own_instance_is_not_found_and_deletes_nothing(name: str) -> None:
    cluster = kube()
    with pytest.raises(NotFound):
        await instances.restart(platform(cluster), ADMIN, WEB, name)
    assert cluster.deleted == []


async def test_restart_needs_deploy_and_a_stranger_sees_no_group() -> None:
    cluster = kube()
    viewer = Principal("v", roles={"shop": "viewer"})
    with pytest.raises(Forbidden):
        await instances.restart(platform(cluster), viewer, WEB, "web-prod-a")
    with pytest.raises(NotFound):
        await instances.restart(platform(cluster), Principal("stranger"), WEB, "web-prod-a")
    assert cluster.deleted == []
    _, _, lines = await instances.log_tail(platform(cluster), viewer, WEB, "web-prod-a", tail=10)
    assert lines  # a viewer reads


async def test_an_instance_already_going_is_a_conflict() -> None:
    cluster = kube()
    p = platform(cluster)
    cast(FakeLive, p.live).by_group[WEB] = [pod_record(name="web-prod-a", deleting=True)]
    with pytest.raises(Conflict, match="already being deleted"):
        await instances.restart(p, ADMIN, WEB, "web-prod-a")
    assert cluster.deleted == []


async def test_an_unreachable_cluster_is_unavailable() -> None:
    cluster = kube()
    cluster.fail = ClusterUnavailable("connection refused")
    with pytest.raises(Unavailable, match="try again"):
        await instances.restart(platform(cluster), ADMIN, WEB, "web-prod-a")
    with pytest.raises(Unavailable):
        await instances.events(platform(cluster), ADMIN, WEB, "web-prod-a")


async def test_the_log_tail_reads_the_pods_log_and_a_refusal_is_a_conflict() -> None:
    cluster = kube()
    _, _, lines = await instances.log_tail(platform(cluster), ADMIN, WEB, "web-prod-a", tail=50, previous=True)
    assert lines == ["2026-12-02T10:00:00Z hello", "2026-12-02T10:00:01Z world"]
    assert cluster.asked == [("log", "shop", "web-prod-a", 50, True)]
    with pytest.raises(InvalidInput):
        await instances.log_tail(platform(cluster), ADMIN, WEB, "web-prod-a", tail=0)
    cluster.fail = ClusterRefused("previous terminated container not found", status=400, reason="BadRequest")
    with pytest.raises(Conflict, match="cannot be read now"):
        await instances.log_tail(platform(cluster), ADMIN, WEB, "web-prod-a", tail=50)


async def test_events_are_those_of_this_very_pod() -> None:
    cluster = kube()
    cluster.events = [
        {"reason": "Scheduled", "involvedObject": {"uid": "u1"}, "eventTime": "2026-12-02T10:00:00Z"},
        {"reason": "Scheduled", "involvedObject": {"uid": "u0"}, "eventTime": "2026-12-02T09:00:00Z"},
    ]
    _, _, found = await instances.events(platform(cluster), ADMIN, WEB, "web-prod-a")
    assert [e.reason for e in found] == ["Scheduled"]
    assert cluster.asked == [("events", "shop", "web-prod-a")]
