"""Private pools of KWOK nodes for one test: made with the sandbox's own node manifests, then removed."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from dockyard.adapters.kube.client import KubeCluster
from dockyard.sandbox.binaries import KUBERNETES_VERSION
from dockyard.sandbox.topology import Pool, assign_pod_cidrs, node_manifests, parse_topology
from tests.integration.harness.kube import condition
from tests.integration.harness.waiting import Not, eventually


@asynccontextmanager
async def private_pool(
    kube: KubeCluster, *, count: int, cpu_model: str = "", zone: str = "", capacity: dict[str, Any] | None = None
) -> AsyncIterator[Pool]:
    """``count`` Ready, untainted nodes in a pool named ``t-<random>`` (labels as the sandbox's), deleted at the end."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    raw = {"name": name, "count": count, "idc": "idc-t", "cpuModel": cpu_model or name, "zone": zone or name}
    if capacity:
        raw["capacity"] = capacity
    topology = parse_topology({"pools": [raw]})
    pool = topology.pools[0]
    nodes = node_manifests(topology, kubelet_version=KUBERNETES_VERSION)
    existing = await kube.list("v1", "Node")
    assign_pod_cidrs(nodes, taken={n.get("spec", {}).get("podCIDR", "") for n in existing})
    await kube.create_many(nodes)
    names = {n["metadata"]["name"] for n in nodes}
    try:

        async def all_ready() -> bool | Not:
            ready = set()
            for node in await kube.list("v1", "Node", labels={"dockyard.io/pool": name}):
                tainted = node.get("spec", {}).get("taints")  # e.g. not-ready, until the node controller sees it
                if condition(node, "Ready") and not tainted:
                    ready.add(node["metadata"]["name"])
            return ready == names or Not(f"{len(ready)}/{count} ready")

        await eventually(all_ready, f"the nodes of private pool {name} to be Ready and untainted", timeout=120)
        yield pool
    finally:
        for node in names:
            await kube.delete("v1", "Node", node)
