"""Remediation applied to a fake cluster's nodes over a real (SQLite) database: nodes with a problem
cordoned and tainted within the pool's limit, the rest held and reported, the pause switch, dry run,
the give-back after the quiet period, every action in the node's history and the audit trail once;
the policy checked and for admins only."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dockyard.adapters.kube.capacity import UsageIndex
from dockyard.domain.capacity import NodeInfo, Taint
from dockyard.domain.clusters import Cluster
from dockyard.domain.live import Capacity, PodRecord
from dockyard.domain.placement import POOL_LABEL
from dockyard.domain.remediation import CORDONED_BY, TAINT_KEY
from dockyard.services.platform import Platform
from dockyard.services.remediation import Remediator
from tests.unit.api.alerting_world import AUTH, ok, user, world_client
from tests.unit.records import pod_record

R = "/api/v1/remediation"
SICK = (("KernelDeadlock", "DockerHung", "task docker:7 blocked"),)


@dataclass
class FakeNodes:
    """One cluster's nodes: what the watch cache shows (``infos``) and what the apiserver holds."""

    infos: dict[str, NodeInfo] = field(default_factory=dict)
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    writes: int = 0
    pods: list[PodRecord] = field(default_factory=list)
    evicted: list[str] = field(default_factory=list)

    def add(self, name: str, *, sick: bool) -> None:
        self.infos[name] = NodeInfo(
            name=name,
            labels=((POOL_LABEL, "general"),),
            taints=(),
            unschedulable=False,
            ready=True,
            cpu_millis=4000,
            memory=8 << 30,
            pods=110,
            problems=SICK if sick else (),
        )
        self.objects[name] = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}, "spec": {}}

    # the LiveView's capacity, and a ClusterClient's get/replace
    def capacity(self, cluster: str) -> Capacity:
        return Capacity(list(self.infos.values()), UsageIndex(), True)

    async def get(self, api_version: str, kind: str, name: str, *, namespace: str | None = None) -> dict[str, Any]:
        return copy.deepcopy(self.objects[name])

    async def replace(self, manifest: dict[str, Any]) -> dict[str, Any]:
        name = manifest["metadata"]["name"]
        self.writes += 1
        self.objects[name] = copy.deepcopy(manifest)
        spec = manifest["spec"]
        taints = tuple(Taint(t["key"], t.get("value", ""), t["effect"]) for t in spec.get("taints") or [])
        self.infos[name] = replace(self.infos[name], taints=taints, unschedulable=bool(spec.get("unschedulable")))
        return manifest

    def instances(self, cluster: str) -> list[PodRecord]:
        return list(self.pods)

    async def evict(self, name: str, *, namespace: str) -> bool:
        self.evicted.append(name)
        self.pods = [replace(p, deleting=True) if p.name == name else p for p in self.pods]
        return True

    def heal(self, name: str) -> None:
        self.infos[name] = replace(self.infos[name], problems=())


@dataclass
class FakeClusters:
    nodes: FakeNodes

    async def client(self, cluster: Cluster) -> FakeNodes:
        assert cluster.name == "far"
        return self.nodes


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[TestClient, FakeNodes, Remediator]]:
    for client in world_client(tmp_path):  # no executor: the rounds are the test's
        platform: Platform = client.app.state.platform  # type: ignore[attr-defined]
        nodes = FakeNodes()
        for i in range(10):
            nodes.add(f"node-{i}", sick=i < 6)
        platform.live = nodes  # type: ignore[assignment]
        platform.clusters = FakeClusters(nodes)  # type: ignore[assignment]
        yield client, nodes, Remediator(platform, me="test-runner")


def tainted(nodes: FakeNodes) -> list[str]:
    return sorted(
        n for n, o in nodes.objects.items() if any(t["key"] == TAINT_KEY for t in o["spec"].get("taints") or [])
    )


def test_off_by_default_and_the_preview_shows_what_on_would_do(
    world: tuple[TestClient, FakeNodes, Remediator],
) -> None:
    client, nodes, remediator = world
    assert ok(client.get(R, headers=AUTH)).json()["mode"] == "off"
    client.portal.call(remediator.round)  # type: ignore[attr-defined]
    assert nodes.writes == 0
    (far,) = ok(client.get(f"{R}/plan", headers=AUTH)).json()
    assert [(a["node"], a["kind"]) for a in far["actions"]] == [(f"node-{i}", "take") for i in range(4)]
    assert [h["node"] for h in far["held"]] == ["node-4", "node-5"]
    assert "at most 4 at once" in far["held"][0]["why"]


def test_take_within_the_limit_pause_and_give_back(world: tuple[TestClient, FakeNodes, Remediator]) -> None:
    client, nodes, remediator = world
    portal = client.portal  # type: ignore[attr-defined]
    ok(client.put(R, json={"mode": "on", "quiet_seconds": 60}, headers=AUTH))
    portal.call(lambda: remediator.round(now=1000.0))
    assert tainted(nodes) == ["node-0", "node-1", "node-2", "node-3"]  # 49 % of 10: 4; node-4 and -5 held
    taken = nodes.objects["node-0"]
    assert taken["spec"]["unschedulable"] is True
    assert {"key": TAINT_KEY, "value": "KernelDeadlock", "effect": "NoSchedule"} in taken["spec"]["taints"]
    assert taken["metadata"]["annotations"][CORDONED_BY] == "dockyard"
    writes = nodes.writes
    portal.call(lambda: remediator.round(now=1010.0))
    assert nodes.writes == writes  # nothing more to do
    history = ok(client.get(f"{R}/history", headers=AUTH)).json()
    assert sorted((h["node"], h["outcome"]) for h in history if h["kind"] == "take") == [
        (f"node-{i}", "done") for i in range(4)
    ]
    assert sorted(h["node"] for h in history if h["kind"] == "held") == ["node-4", "node-5"]
    assert len(history) == 6  # told once each, not at every round
    trail = ok(client.get("/api/v1/audit", params={"actor": "remediation"}, headers=AUTH)).json()["items"]
    assert sum(1 for e in trail if e["action"] == "remediation_take") == 4

    # node-0 recovers; the pause switch holds everything
    nodes.heal("node-0")
    ok(client.put(R, json={"mode": "on", "quiet_seconds": 60, "paused": True}, headers=AUTH))
    portal.call(lambda: remediator.round(now=1020.0))
    portal.call(lambda: remediator.round(now=2000.0))
    assert tainted(nodes) == ["node-0", "node-1", "node-2", "node-3"]
    ok(client.put(R, json={"mode": "on", "quiet_seconds": 60}, headers=AUTH))
    portal.call(lambda: remediator.round(now=2010.0))  # clear since 1020: given back
    assert tainted(nodes) == ["node-1", "node-2", "node-3"]
    portal.call(lambda: remediator.round(now=2020.0))  # the freed place is used at the next round
    assert tainted(nodes) == ["node-1", "node-2", "node-3", "node-4"]
    back = nodes.objects["node-0"]
    assert back["spec"]["unschedulable"] is False
    assert back["spec"]["taints"] == []
    assert CORDONED_BY not in back["metadata"]["annotations"]
    mine = ok(client.get(f"{R}/history", params={"node": "node-0"}, headers=AUTH)).json()
    assert [h["kind"] for h in mine] == ["give-back", "held", "take"]
    assert mine[1]["outcome"] == "would give back: remediation is paused"


def test_dry_run_records_and_changes_nothing(world: tuple[TestClient, FakeNodes, Remediator]) -> None:
    client, nodes, remediator = world
    ok(client.put(R, json={"mode": "dry-run"}, headers=AUTH))
    client.portal.call(remediator.round)  # type: ignore[attr-defined]
    client.portal.call(remediator.round)  # type: ignore[attr-defined]
    assert nodes.writes == 0
    history = ok(client.get(f"{R}/history", headers=AUTH)).json()
    assert (
        sorted((h["kind"], h["outcome"]) for h in history if h["kind"] == "take") == [("take", "planned (dry-run)")] * 4
    )


def test_only_another_runner_without_the_lease_waits(world: tuple[TestClient, FakeNodes, Remediator]) -> None:
    client, _, remediator = world
    ok(client.put(R, json={"mode": "on"}, headers=AUTH))
    other = Remediator(remediator.platform, me="another-server")
    assert client.portal.call(lambda: remediator.round(now=1000.0))  # type: ignore[attr-defined]
    assert client.portal.call(lambda: other.round(now=1001.0)) == {}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("body", "field"),
    [({"mode": "always"}, "mode"), ({"max_share": 1.5}, "max_share"), ({"quiet_seconds": -5}, "quiet_seconds")],
)
def test_a_bad_policy_names_its_field(
    world: tuple[TestClient, FakeNodes, Remediator], body: dict[str, Any], field: str
) -> None:
    client, _, _ = world
    answer = client.put(R, json=body, headers=AUTH)
    assert answer.status_code == 422
    assert answer.json()["details"]["field"] == field
    assert ok(client.get(R, headers=AUTH)).json()["mode"] == "off"


def test_only_admins(world: tuple[TestClient, FakeNodes, Remediator]) -> None:
    client, _, _ = world
    owner = user(client, "olive", system="shop", role="owner")
    for method, path in (("GET", R), ("PUT", R), ("GET", f"{R}/plan"), ("GET", f"{R}/history")):
        answer = client.request(method, path, json={"mode": "on"} if method == "PUT" else None, headers=owner)
        assert answer.status_code == 403, (method, path)


def test_instances_on_taken_nodes_move_off_one_per_group_at_a_time(
    world: tuple[TestClient, FakeNodes, Remediator],
) -> None:
    client, nodes, remediator = world
    portal = client.portal  # type: ignore[attr-defined]
    # group web/prod: 3 instances, two on sick node-0; group web/canary: 1 on node-1; api on a healthy node
    nodes.pods = [
        pod_record(name="prod-a", app="web", group="prod", node="node-0", ready=True),
        pod_record(name="prod-b", app="web", group="prod", node="node-0", ready=True),
        pod_record(name="prod-c", app="web", group="prod", node="node-8", ready=True),
        pod_record(name="canary-a", app="web", group="canary", node="node-1", ready=True),
        pod_record(name="api-a", app="api", group="prod", node="node-9", ready=True),
    ]
    ok(client.put(R, json={"mode": "on"}, headers=AUTH))
    portal.call(lambda: remediator.round(now=1000.0))
    assert nodes.evicted == ["canary-a", "prod-a"]  # one per group
    portal.call(lambda: remediator.round(now=1010.0))
    assert nodes.evicted == ["canary-a", "prod-a"]  # prod-a's replacement is not ready yet: prod-b waits
    # the replacement is up (prod-a gone, a new one ready on a healthy node)
    nodes.pods = [p for p in nodes.pods if p.name not in ("prod-a", "canary-a")]
    nodes.pods.append(pod_record(name="prod-d", app="web", group="prod", node="node-7", ready=True))
    portal.call(lambda: remediator.round(now=1020.0))
    assert nodes.evicted == ["canary-a", "prod-a", "prod-b"]
    history = ok(client.get(f"{R}/history", params={"node": "node-0"}, headers=AUTH)).json()
    assert [(h["kind"], h["reason"]) for h in history if h["kind"] == "evict"] == [
        ("evict", f"{nodes.pods[1].namespace}/prod-b"),
        ("evict", f"{nodes.pods[0].namespace}/prod-a"),
    ]
    assert any(h["kind"] == "held" and "prod-b" in h["reason"] for h in history)
