"""Placement on the real scheduler: a pool, a CPU model, and hard spread over nodes."""

from __future__ import annotations

from typing import Any

from dockyard.adapters.kube.client import KubeCluster
from tests.integration.harness.client import Api
from tests.integration.harness.pools import private_pool
from tests.integration.harness.specs import WEB as V1
from tests.integration.harness.waiting import Not, eventually


async def test_hard_spread_in_a_pool_uses_distinct_nodes_and_the_extra_instance_says_why(
    api: Api, kube: KubeCluster
) -> None:
    placement = {"pool": "idc-a-intel", "cpu_model": "intel-xeon-gold-6248", "spread": {"hard": True}}
    spec = {**V1, "instances": 6, "placement": placement}
    response = await api.http.post(f"{api.group}/deploy", json={"spec": spec, "deadline_seconds": 15, "force": True})
    assert response.status_code == 202
    failed = await api.wait(response.json())
    # The pool has 5 nodes: the 6th instance has nowhere to go, and the operation says why.
    assert failed["status"] == "failed"
    assert "anti-affinity" in failed["error"]

    async def five_placed() -> list[dict[str, Any]] | Not:
        pods = await kube.list("v1", "Pod", namespace=api.system, labels={"dockyard.io/group": "prod"})
        return pods if sum(1 for p in pods if p["spec"].get("nodeName")) == 5 else Not(len(pods))

    pods = await eventually(five_placed, "5 instances placed", timeout=30)
    placed = [p["spec"].get("nodeName") for p in pods if p["spec"].get("nodeName")]
    nodes = {n["metadata"]["name"]: n["metadata"]["labels"] for n in await kube.list("v1", "Node")}
    assert len(pods) == 6
    assert len(set(placed)) == 5  # one instance per node
    assert {nodes[n]["dockyard.io/pool"] for n in placed} == {"idc-a-intel"}
    assert {nodes[n]["dockyard.io/cpu-model"] for n in placed} == {"intel-xeon-gold-6248"}
    instances = (await api.http.get(f"{api.group}/instances")).json()["items"]
    pending = [i for i in instances if i["phase"] == "Pending"]
    assert len(pending) == 1
    assert "anti-affinity" in pending[0]["reason"]


async def test_online_instances_preempt_batch_ones_in_a_full_pool(api: Api, kube: KubeCluster) -> None:
    """Pool idc-b-amd: 5 nodes × 32 CPU, room for 20 xlarge (8 CPU) instances in all."""
    batch_group = {"name": "batch", "environment": "prod", "cluster": "local"}
    assert (await api.http.post(f"/api/v1/systems/{api.system}/apps/web/groups", json=batch_group)).status_code == 201
    batch = {**V1, "flavor": "xlarge", "instances": 20, "placement": {"pool": "idc-b-amd", "priority": "batch"}}
    filled = await api.http.post(
        f"/api/v1/systems/{api.system}/apps/web/groups/batch/deploy",
        json={"spec": batch, "deadline_seconds": 30, "force": True},
    )
    await api.wait(filled.json())  # the pool is full now, whether or not all 20 found room

    online = {**V1, "flavor": "xlarge", "instances": 4, "placement": {"pool": "idc-b-amd", "priority": "online"}}
    await api.act("deploy", {"spec": online, "deadline_seconds": 120})  # succeeds: it preempts batch
    pods = await kube.list("v1", "Pod", namespace=api.system, labels={"dockyard.io/group": "batch"})
    running = [p for p in pods if p["spec"].get("nodeName") and not p["metadata"].get("deletionTimestamp")]
    assert len(running) <= 16  # 4 × 8 CPU went to the online instances
    classes = {c["metadata"]["name"] for c in await kube.list("scheduling.k8s.io/v1", "PriorityClass")}
    assert {"dockyard-online", "dockyard-batch"} <= classes


async def _status_shows(api: Api, pool: str, nodes: int) -> dict[str, Any]:
    """The cluster's status once the caches are connected, show the pool's nodes Ready and, as the
    preview of one instance per node there says, schedulable (no not-ready taint left)."""
    spread = {"pool": pool, "spread": {"level": "node", "hard": True}}
    probe = {"spec": {**V1, "flavor": "tiny", "instances": nodes, "placement": spread}}

    async def shown() -> dict[str, Any] | Not:
        status: dict[str, Any] = (await api.http.get("/api/v1/clusters/local/status")).json()
        pools = {p["pool"]: p for p in status["pools"]}
        if not (status["connected"] and pools.get(pool, {}).get("ready") == nodes):
            return Not(pools.get(pool))
        preview = (await api.http.post(f"{api.group}/preview", json=probe)).json()
        return status if preview["fits"] == nodes else Not(preview)

    return await eventually(shown, f"the cluster status to show pool {pool} with {nodes} schedulable nodes")


async def test_eleven_instances_with_hard_spread_on_ten_nodes_the_preview_says_so_exactly(
    api: Api, kube: KubeCluster
) -> None:
    async with private_pool(kube, count=10) as pool:
        status = await _status_shows(api, pool.name, 10)
        total = status["nodes"]["ready"] + status["nodes"]["not_ready"]
        ours = next(p for p in status["pools"] if p["pool"] == pool.name)
        assert ours["allocatable"] == {"cpu_millis": 10 * 32000, "memory_mib": 10 * 128 * 1024}
        spec = {**V1, "instances": 11, "placement": {"pool": pool.name, "spread": {"level": "node", "hard": True}}}

        preview = (await api.http.post(f"{api.group}/preview", json={"spec": spec})).json()
        # Other tainted nodes (the sandbox's real node, once a test has added it) fail on their taint
        # first, as the scheduler's TaintToleration filter runs before NodeAffinity.
        nodes = await kube.list("v1", "Node")
        tainted = sum(
            1
            for n in nodes
            if any(t.get("effect") in ("NoSchedule", "NoExecute") for t in n.get("spec", {}).get("taints") or [])
        )
        reasons = {
            "node(s) didn't match pod anti-affinity rules": 10,
            "node(s) didn't match Pod's node affinity/selector": total - 10 - tainted,
            "node(s) had untolerated taint(s)": tainted,
        }
        listed = sorted(f"{count} {reason}" for reason, count in reasons.items() if count)
        expected = f"0/{total} nodes are available: {', '.join(listed)}."
        assert (preview["fits"], preview["pending"]) == (10, 1)
        (cluster,) = preview["clusters"]
        assert cluster["message"] == expected
        assert sorted(cluster["nodes"].values()) == [1] * 10

        refused = await api.http.post(f"{api.group}/deploy", json={"spec": spec})
        assert refused.status_code == 422
        assert refused.json()["code"] == "does_not_fit"
        assert refused.json()["details"]["preview"] == preview
        assert (await api.http.get(f"{api.group}/versions")).json() == []  # nothing written

        forced = await api.http.post(f"{api.group}/deploy", json={"spec": spec, "force": True, "deadline_seconds": 5})
        assert forced.status_code == 202
        assert (await api.wait(forced.json()))["status"] == "failed"

        def placed_and_pending(items: list[dict[str, Any]]) -> tuple[list[str], list[dict[str, Any]]]:
            return [i["node"] for i in items if i["node"]], [i for i in items if not i["node"] and i["reason"]]

        async def ten_placed_one_pending() -> tuple[list[str], list[dict[str, Any]]] | Not:
            items = (await api.http.get(f"{api.group}/instances")).json()["items"]
            placed, pending = placed_and_pending(items)
            return (placed, pending) if (len(placed), len(pending)) == (10, 1) else Not(items)

        placed, pending = await eventually(ten_placed_one_pending, "10 instances placed and 1 pending with a reason")
        assert len(set(placed)) == 10
        assert {n.rsplit("-", 1)[0] for n in placed} == {pool.name}
        # The scheduler's own message, as the preview predicted it (then its preemption part).
        assert pending[0]["reason"].startswith(expected), pending[0]["reason"]


async def _group(api: Api, app: str, group: str) -> str:
    base = f"/api/v1/systems/{api.system}/apps"
    if app != "web":
        made = await api.http.post(base, json={"name": app, "repository": f"registry.local/shop/{app}"})
        assert made.status_code == 201, made.text
    body = {"name": group, "environment": "prod", "cluster": "local"}
    assert (await api.http.post(f"{base}/{app}/groups", json=body)).status_code == 201
    return f"{base}/{app}/groups/{group}"


async def _deploy(api: Api, path: str, spec: dict[str, Any]) -> None:
    accepted = await api.http.post(f"{path}/deploy", json={"spec": spec, "deadline_seconds": 120})
    assert accepted.status_code == 202, accepted.text
    done = await api.wait(accepted.json(), timeout=180)
    assert (done["status"], done["error"]) == ("succeeded", ""), done


async def _nodes_of(kube: KubeCluster, namespace: str, app: str) -> list[str]:
    pods = await kube.list("v1", "Pod", namespace=namespace, labels={"dockyard.io/app": app})
    return [p["spec"]["nodeName"] for p in pods if not p["metadata"].get("deletionTimestamp")]


async def test_a_dedicated_pool_runs_its_application_only(api: Api, kube: KubeCluster) -> None:
    owner = {"system": api.system, "app": "web"}
    unknown = await api.http.put("/api/v1/clusters/nowhere/dedicated-pools/p", json=owner)
    assert unknown.status_code == 404, unknown.text  # an unknown cluster is not "not synced yet"
    async with private_pool(kube, count=3) as pool:
        await _status_shows(api, pool.name, 3)
        url = f"/api/v1/clusters/local/dedicated-pools/{pool.name}"
        made = await api.http.put(url, json={"system": api.system, "app": "web"})
        assert made.status_code == 200, made.text
        value = f"{api.system}.web"
        assert made.json()["taint"] == f"dockyard.io/dedicated={value}:NoSchedule"
        ours = {n["metadata"]["name"]: n for n in await kube.list("v1", "Node", labels={"dockyard.io/pool": pool.name})}
        for node in ours.values():
            assert node["metadata"]["labels"]["dockyard.io/dedicated"] == value
            assert {"key": "dockyard.io/dedicated", "value": value, "effect": "NoSchedule"} in node["spec"]["taints"]
        taken = await api.http.put(url, json={"system": api.system, "app": "other"})
        assert taken.status_code in (404, 409)  # app other does not exist yet; once it does, the pool is taken

        await _deploy(api, api.group, {**V1, "instances": 6})
        assert set(await _nodes_of(kube, api.system, "web")) <= set(ours)

        bulk = await _group(api, "other", "bulk")
        assert (await api.http.put(url, json={"system": api.system, "app": "other"})).status_code == 409
        await _deploy(api, bulk, {**V1, "flavor": "tiny", "instances": 50})
        others = await _nodes_of(kube, api.system, "other")
        assert len(others) == 50
        assert not set(others) & set(ours)

        listed = (await api.http.get("/api/v1/clusters/local/dedicated-pools")).json()
        assert [(d["pool"], d["app"]) for d in listed if d["pool"] == pool.name] == [(pool.name, "web")]
        assert (await api.http.delete(url)).status_code == 204
        for node in await kube.list("v1", "Node", labels={"dockyard.io/pool": pool.name}):
            assert "dockyard.io/dedicated" not in node["metadata"]["labels"]
            assert all(t["key"] != "dockyard.io/dedicated" for t in node["spec"].get("taints") or [])
        audit = (await api.http.get("/api/v1/audit", params={"action": "dedicate_pool"})).json()["items"]
        assert audit[0]["target"] == {"name": "local", "pool": pool.name}


async def test_every_instance_of_an_application_runs_on_one_cpu_model_chosen_where_the_room_is(
    api: Api, kube: KubeCluster
) -> None:
    big = {"cpu": "512", "memory": "2048Gi", "pods": 200}
    async with private_pool(kube, count=2, capacity=big) as pool:
        await _status_shows(api, pool.name, 2)
        auto = {**V1, "instances": 6, "placement": {"cpu_model": "auto"}}
        preview = (await api.http.post(f"{api.group}/preview", json={"spec": auto})).json()
        assert preview["fits"] == 6
        await _deploy(api, api.group, auto)
        second = await _group(api, "web", "second")
        await _deploy(api, second, auto)
        nodes = {n["metadata"]["name"]: n["metadata"]["labels"] for n in await kube.list("v1", "Node")}
        placed = await _nodes_of(kube, api.system, "web")
        assert len(placed) == 12
        # The private pool has the most room (2 × 512 CPU): its CPU model, for both groups.
        assert {nodes[n]["dockyard.io/cpu-model"] for n in placed} == {pool.cpu_model}
        template = (await kube.get("apps/v1", "Deployment", "web-second", namespace=api.system))["spec"]["template"]
        assert template["spec"]["nodeSelector"] == {"dockyard.io/cpu-model": pool.cpu_model}
