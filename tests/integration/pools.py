"""Private pools of KWOK nodes for one test: made with the sandbox's own node manifests, then removed."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from dockyard.adapters.kube.client import KubeCluster
from dockyard.sandbox.binaries import KUBERNETES_VERSION
from dockyard.sandbox.topology import Pool, assign_pod_cidrs, node_manifests, parse_topology


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
        ready: set[str] = set()

        async def all_ready() -> bool:
            for node in await kube.list("v1", "Node", labels={"dockyard.io/pool": name}):
                conditions = node.get("status", {}).get("conditions") or []
                tainted = node.get("spec", {}).get("taints")  # e.g. not-ready, until the node controller sees it
                if any(c["type"] == "Ready" and c["status"] == "True" for c in conditions) and not tainted:
                    ready.add(node["metadata"]["name"])
            return ready == names

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if await all_ready():
                break
            await asyncio.sleep(0.5)
        assert ready == names, f"private pool {name}: {len(ready)}/{count} nodes ready"
        yield pool
    finally:
        for node in names:
            await kube.delete("v1", "Node", node)
