"""Placement on the real scheduler: a pool, a CPU model, and hard spread over nodes."""

from __future__ import annotations

import asyncio
import time

from dockyard.adapters.kube.client import KubeCluster
from tests.integration.test_api import V1, Api, api

__all__ = ["api"]  # the fixture: a server in-process, cluster local = the sandbox (pools of 5 nodes)


async def test_hard_spread_in_a_pool_uses_distinct_nodes_and_the_extra_instance_says_why(
    api: Api, kube: KubeCluster
) -> None:
    placement = {"pool": "idc-a-intel", "cpu_model": "intel-xeon-gold-6248", "spread": {"hard": True}}
    spec = {**V1, "instances": 6, "placement": placement}
    response = await api.http.post(f"{api.group}/deploy", json={"spec": spec, "deadline_seconds": 15})
    assert response.status_code == 202
    failed = await api.wait(response.json())
    # The pool has 5 nodes: the 6th instance has nowhere to go, and the operation says why.
    assert failed["status"] == "failed"
    assert "anti-affinity" in failed["error"]

    deadline = time.monotonic() + 30
    while True:
        pods = await kube.list("v1", "Pod", namespace=api.system, labels={"dockyard.io/group": "prod"})
        placed = [p["spec"].get("nodeName") for p in pods if p["spec"].get("nodeName")]
        if len(placed) == 5 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.3)
    nodes = {n["metadata"]["name"]: n["metadata"]["labels"] for n in await kube.list("v1", "Node")}
    assert len(pods) == 6
    assert len(set(placed)) == 5  # one instance per node
    assert {nodes[n]["dockyard.io/pool"] for n in placed} == {"idc-a-intel"}
    assert {nodes[n]["dockyard.io/cpu-model"] for n in placed} == {"intel-xeon-gold-6248"}
    instances = (await api.http.get(f"{api.group}/instances")).json()["items"]
    pending = [i for i in instances if i["phase"] == "Pending"]
    assert len(pending) == 1
    assert "anti-affinity" in pending[0]["reason"]
