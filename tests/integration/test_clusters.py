"""Many clusters on two real sandboxes: location by cluster labels, production grants (refused and
audited), a group split over two clusters by spare capacity, a release that goes cluster by cluster,
and one cluster's apiserver killed while the other goes on working."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from dockyard.adapters.kube.client import KubeCluster
from dockyard.adapters.kube.errors import KubeError
from dockyard.sandbox import cluster, processes
from dockyard.sandbox.binaries import KUBERNETES_VERSION
from dockyard.sandbox.topology import MANAGED_LABEL, Capacity, Pool, Topology, assign_pod_cidrs, node_manifests
from dockyard.services.platform import Platform
from tests.integration.harness import kube as live
from tests.integration.harness.client import create, operation_ended, register_cluster
from tests.integration.harness.sandboxes import Sandbox
from tests.integration.harness.servers import in_process, settings
from tests.integration.harness.tokens import ADMIN
from tests.integration.harness.waiting import eventually

SPEC: dict[str, Any] = {"image": "registry.local/shop/web:1", "flavor": "small", "instances": 4}


@dataclass
class Two:
    """An in-process server with clusters ``idc-a`` (the main sandbox, idc=a) and ``idc-b`` (the
    second sandbox, idc=b) registered, and a system with application web."""

    http: httpx.AsyncClient
    platform: Platform
    system: str
    a: KubeCluster
    b: KubeCluster
    b_sandbox: Sandbox

    def group(self, name: str) -> str:
        return f"/api/v1/systems/{self.system}/apps/web/groups/{name}"

    async def make_group(self, name: str, environment: str) -> None:
        body = {"name": name, "environment": environment, "cluster": "idc-a"}
        await create(self.http, (f"/api/v1/systems/{self.system}/apps/web/groups", body))

    async def wait(self, operation: dict[str, Any], timeout: float = 240) -> dict[str, Any]:
        return await operation_ended(self.http, operation["id"], timeout=timeout)

    async def act(self, group: str, action: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.http.post(f"{self.group(group)}/{action}", json=body)
        assert response.status_code == 202, response.text
        done = await self.wait(response.json())
        assert (done["status"], done["error"]) == ("succeeded", ""), done
        return done

    async def grant(self, location: dict[str, Any]) -> dict[str, Any]:
        asked = await self.http.post(f"/api/v1/systems/{self.system}/locations", json={"location": location})
        assert asked.status_code == 201, asked.text
        approved = await self.http.post(f"/api/v1/systems/{self.system}/locations/{asked.json()['id']}/approve")
        assert approved.status_code == 200, approved.text
        return dict(approved.json())


@pytest.fixture
async def two(sandbox: Sandbox, second_sandbox: Sandbox, database_url: str, tmp_path: Path) -> AsyncIterator[Two]:
    system = f"multi-{uuid.uuid4().hex[:8]}"
    async with (
        in_process(settings(database_url, tmp_path), headers=ADMIN) as server,
        KubeCluster(sandbox.kubeconfig, timeout=30.0) as a,
        KubeCluster(second_sandbox.kubeconfig, timeout=30.0) as b,
    ):
        for name, box, idc in (("idc-a", sandbox, "a"), ("idc-b", second_sandbox, "b")):
            await register_cluster(server.http, box, name=name, labels={"idc": idc})
        await create(
            server.http,
            ("/api/v1/systems", {"name": system}),
            (f"/api/v1/systems/{system}/apps", {"name": "web", "repository": "registry.local/shop/web"}),
        )
        yield Two(server.http, server.platform, system, a, b, second_sandbox)
        for kube in (a, b):
            await kube.delete("v1", "Namespace", system)


async def _pods(kube: KubeCluster, system: str, group: str) -> list[dict[str, Any]]:
    return await live.live_pods(kube, system, group)


async def _versions(kube: KubeCluster, system: str, group: str) -> Counter[str]:
    return await live.versions(kube, system, group)


async def _settled(kube: KubeCluster, system: str, want: dict[str, int], *, group: str = "batch") -> None:
    """The group's pods on ``kube`` are exactly ``want`` (version: count) once old ones have gone."""
    await live.settled(kube, system, want, group=group)


async def test_a_group_limited_to_idc_b_never_lands_on_idc_a_and_production_needs_a_grant(two: Two) -> None:
    await two.make_group("prod", "prod")
    located = {**SPEC, "placement": {"location": {"idc": "b"}}}

    refused = await two.http.post(f"{two.group('prod')}/deploy", json={"spec": located})
    assert refused.status_code == 403, refused.text
    assert refused.json()["code"] == "location_not_granted"
    assert refused.json()["details"] == {"field": "placement.location"}
    assert "idc-b" in refused.json()["message"]
    assert (await two.http.get(two.group("prod"))).json()["latest_version"] == 0  # nothing written
    trail = (await two.http.get("/api/v1/audit", params={"system": two.system, "action": "deploy"})).json()["items"]
    assert [(e["outcome"], e["status"]) for e in trail] == [("denied", 403)]
    assert "may not run on idc-b" in trail[0]["reason"]

    # Requested is not enough; approved is. A grant for idc=a does not cover idc-b.
    asked = await two.http.post(f"/api/v1/systems/{two.system}/locations", json={"location": {"idc": "b"}})
    assert asked.status_code == 201
    assert asked.json()["status"] == "requested"
    assert (await two.http.post(f"{two.group('prod')}/deploy", json={"spec": located})).status_code == 403
    await two.grant({"idc": "a"})
    assert (await two.http.post(f"{two.group('prod')}/deploy", json={"spec": located})).status_code == 403
    approve = await two.http.post(f"/api/v1/systems/{two.system}/locations/{asked.json()['id']}/approve")
    assert approve.status_code == 200

    await two.act("prod", "deploy", {"spec": located})
    await two.act("prod", "scale", {"instances": 6})
    await _settled(two.b, two.system, {"2": 6}, group="prod")
    assert await _pods(two.a, two.system, "prod") == []
    group = (await two.http.get(two.group("prod"))).json()
    assert group["clusters"] == [{"cluster": "idc-b", "instances": 6, "version": 2}]
    items = (await two.http.get(f"{two.group('prod')}/instances")).json()["items"]
    assert {i["cluster"] for i in items} == {"idc-b"}

    # Revoked: no new deploy there (what runs keeps running).
    revoked = await two.http.post(f"/api/v1/systems/{two.system}/locations/{asked.json()['id']}/revoke")
    assert revoked.json()["status"] == "revoked"
    again = await two.http.post(f"{two.group('prod')}/scale", json={"instances": 2})
    assert again.status_code == 403
    assert again.json()["details"] == {"field": "placement.location"}


def _room_nodes(pool: str, count: int, taken: set[str]) -> list[dict[str, Any]]:
    """``count`` KWOK nodes of ``pool`` with room for exactly 6 ``medium`` instances each (12 CPU,
    48 GiB); not marked as the sandbox's, so `sandbox up` leaves them alone."""
    spec = Pool(name=pool, count=count, idc="test", cpu_model="test", capacity=Capacity(cpu="12", memory="48Gi"))
    nodes = node_manifests(Topology(pools=[spec]), kubelet_version=KUBERNETES_VERSION)
    assign_pod_cidrs(nodes, taken=taken)
    for node in nodes:
        del node["metadata"]["labels"][MANAGED_LABEL]
    return nodes


@pytest.fixture
async def room(two: Two) -> AsyncIterator[str]:
    """A pool of its own on each cluster: 4 nodes on idc-a, 2 on idc-b, so idc-a has twice the room
    (24 and 12 medium instances: a release needs room for the new set beside the old one)."""
    pool = f"room-{uuid.uuid4().hex[:6]}"
    made: list[tuple[KubeCluster, str]] = []
    for kube, count in ((two.a, 4), (two.b, 2)):
        taken = {n.get("spec", {}).get("podCIDR", "") for n in await kube.list("v1", "Node")}
        nodes = _room_nodes(pool, count, taken)
        await kube.create_many(nodes)
        made += [(kube, n["metadata"]["name"]) for n in nodes]

    async def ready() -> bool:
        for kube, want in ((two.a, 4), (two.b, 2)):
            nodes = await kube.list("v1", "Node", labels={"dockyard.io/pool": pool})
            up = [n for n in nodes if live.condition(n, "Ready")]
            if len(up) != want:
                return False
        return True

    await eventually(ready, "the room nodes are Ready", timeout=180)
    yield pool
    for kube, name in made:
        with contextlib.suppress(KubeError):  # a cluster a failed test left down
            await kube.delete("v1", "Node", name)


async def test_a_group_split_by_spare_capacity_released_cluster_by_cluster_survives_a_cluster_going_away(
    two: Two, room: str
) -> None:
    await two.make_group("batch", "test")
    spec = {
        **SPEC,
        "flavor": "medium",
        "instances": 12,
        "placement": {"pool": room, "location": {"clusters": ["idc-a", "idc-b"]}, "release_order": ["idc-b", "idc-a"]},
    }
    deployed = await two.act("batch", "deploy", {"spec": spec})
    assert deployed["params"]["split"] == {"idc-a": 8, "idc-b": 4}  # room 24 vs 12: Momo's rule
    await _settled(two.a, two.system, {"1": 8})
    await _settled(two.b, two.system, {"1": 4})
    group = (await two.http.get(two.group("batch"))).json()
    assert group["clusters"] == [
        {"cluster": "idc-a", "instances": 8, "version": 1},
        {"cluster": "idc-b", "instances": 4, "version": 1},
    ]
    await eventually(lambda: _state(two, "batch", "healthy"), "the group reads healthy on both clusters", timeout=60)
    items = (await two.http.get(f"{two.group('batch')}/instances")).json()["items"]
    assert Counter(i["cluster"] for i in items) == Counter({"idc-a": 8, "idc-b": 4})

    await _preview_and_fit_check_judge_each_cluster_with_its_share(two)
    await _release_goes_cluster_by_cluster(two)
    await _an_abort_in_the_first_cluster_stops_the_rest(two)
    await _one_cluster_away(two)


async def _preview_and_fit_check_judge_each_cluster_with_its_share(two: Two) -> None:
    """40 instances split as a deploy would (room 24 and 12, the group's own 8 and 4 included: 27 and
    13); each cluster is previewed with its share, and the scale is refused for what does not fit."""
    preview = (await two.http.post(f"{two.group('batch')}/preview", json={"changes": {"instances": 40}})).json()
    got = {c["cluster"]: (c["wanted"], c["fits"]) for c in preview["clusters"]}
    assert got == {"idc-a": (27, 24), "idc-b": (13, 12)}, preview
    assert (preview["wanted"], preview["fits"], preview["pending"]) == (40, 36, 4)
    refused = await two.http.post(f"{two.group('batch')}/scale", json={"instances": 40})
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "does_not_fit"
    assert refused.json()["details"]["preview"] == preview
    assert (await two.http.get(two.group("batch"))).json()["latest_version"] == 1  # nothing written
    fits = (await two.http.post(f"{two.group('batch')}/preview", json={"changes": {"instances": 18}})).json()
    assert {c["cluster"]: (c["wanted"], c["fits"]) for c in fits["clusters"]} == {"idc-a": (12, 12), "idc-b": (6, 6)}


async def _state(two: Two, group: str, state: str) -> bool:
    got = (await two.http.get(two.group(group))).json()
    return bool(got["status"]["state"] == state)


async def _release_goes_cluster_by_cluster(two: Two) -> None:
    """idc-b (first in release_order) is wholly on version 2 before idc-a sees any instance of it."""
    first_seen: dict[str, float] = {}
    b_when_a_started: list[Counter[str]] = []

    async def watch() -> None:
        while len(first_seen) < 2:
            for name, kube in (("idc-b", two.b), ("idc-a", two.a)):
                counts = await _versions(kube, two.system, "batch")
                if counts["2"] and name not in first_seen:
                    first_seen[name] = time.monotonic()
                    if name == "idc-a":
                        b_when_a_started.append(await _versions(two.b, two.system, "batch"))
            await asyncio.sleep(0.2)

    watcher = asyncio.create_task(watch())
    started = await two.http.post(
        f"{two.group('batch')}/releases",
        json={"changes": {"image": "registry.local/shop/web:2"}, "steps": ["gray 1", "100%"]},
    )
    assert started.status_code == 202, started.text
    release = started.json()
    assert release["clusters"] == [{"cluster": "idc-b", "instances": 4}, {"cluster": "idc-a", "instances": 8}]
    done = await two.wait({"id": release["id"]})
    assert (done["status"], done["error"]) == ("succeeded", ""), done
    await asyncio.wait_for(watcher, 30)
    assert first_seen["idc-b"] < first_seen["idc-a"]
    assert b_when_a_started == [Counter({"2": 4})]
    ledger = (await two.http.get(f"{two.group('batch')}/releases/{release['id']}")).json()["ledger"]
    ends = [(e["event"], e.get("cluster")) for e in ledger if e["event"] in ("cluster-done", "succeeded")]
    assert ends == [("cluster-done", "idc-b"), ("succeeded", "idc-a")]
    await _settled(two.a, two.system, {"2": 8})
    await _settled(two.b, two.system, {"2": 4})


async def _an_abort_in_the_first_cluster_stops_the_rest(two: Two) -> None:
    body = {"changes": {"image": "registry.local/shop/web:3"}, "steps": ["gray 1", "pause", "100%"]}
    started = await two.http.post(f"{two.group('batch')}/releases", json=body)
    assert started.status_code == 202, started.text
    path = f"{two.group('batch')}/releases/{started.json()['id']}"

    async def paused() -> bool:
        got = (await two.http.get(path)).json()
        return bool(got["status"] == "paused" and got["cluster_index"] == 0)

    await eventually(paused, "the release pauses in idc-b", timeout=180)
    await _settled(two.b, two.system, {"3": 1, "2": 3})
    assert (await two.http.post(f"{path}/abort")).status_code == 200
    done = await two.wait({"id": started.json()["id"]})
    assert done["status"] == "failed"
    assert done["error"].startswith("idc-b: aborted at step 2")
    assert (await two.http.get(path)).json()["status"] == "aborted"
    await _settled(two.b, two.system, {"2": 4})
    assert await _versions(two.a, two.system, "batch") == Counter({"2": 8})  # never reached
    assert (await two.http.get(two.group("batch"))).json()["current_version"] == 2


async def _one_cluster_away(two: Two) -> None:
    """idc-b's apiserver killed: the group reads degraded there, a scale proceeds on idc-a (idc-b keeps
    its part); once idc-b is back, a reconcile brings it up to date."""
    layout = two.b_sandbox.layout
    apiserver = processes.find(layout.pid_file("kube-apiserver"), marker=str(layout.root))
    assert apiserver is not None
    os.kill(apiserver.pid, signal.SIGKILL)
    try:

        async def away() -> bool:
            got = (await two.http.get(two.group("batch"))).json()["status"]
            parts = {c["cluster"]: c["state"] for c in got["clusters"]}
            return bool(got["state"] == "degraded" and parts.get("idc-b") == "unreachable" and got["stale"])

        await eventually(away, "the group reads degraded with idc-b unreachable", timeout=120)
        scaled = await two.act("batch", "scale", {"instances": 15})
        assert scaled["params"]["split"] == {"idc-a": 11, "idc-b": 4}
        assert list(scaled["params"]["away"]) == ["idc-b"]
        await _settled(two.a, two.system, {"4": 11})
        group = (await two.http.get(two.group("batch"))).json()
        assert group["clusters"] == [
            {"cluster": "idc-a", "instances": 11, "version": 4},
            {"cluster": "idc-b", "instances": 4, "version": 2},
        ]
        listed = (await two.http.get(f"{two.group('batch')}/instances")).json()
        assert listed["stale"] is True
        assert Counter(i["cluster"] for i in listed["items"]) == Counter({"idc-a": 11, "idc-b": 4})
    finally:
        await asyncio.to_thread(cluster.up, layout)
    await two.act("batch", "reconcile", {})
    await _settled(two.b, two.system, {"4": 4})
    await eventually(lambda: _state(two, "batch", "healthy"), "healthy again on both clusters", timeout=120)

    deleted = await two.http.delete(two.group("batch"))
    assert deleted.status_code == 202
    assert (await two.wait(deleted.json()))["status"] == "succeeded"
    for kube in (two.a, two.b):
        await _settled(kube, two.system, {})
        assert await kube.list("apps/v1", "Deployment", namespace=two.system) == []
    assert (await two.http.get(two.group("batch"))).status_code == 404
