"""node-problem-detector on the sandbox's real node, end to end: a kernel line matching the EXT4 rule,
appended to the log NPD reads, becomes the node's condition (≤ 10 s), Dockyard's remediation taints
and cordons the node (≤ 15 s) and moves the group's instances off it through the Eviction API (the
group's PodDisruptionBudget in place) without the group ever falling below its ready count minus
its budget; once the condition is cleared (the log rotated and NPD restarted, as after a repair)
the taint is removed (≤ 30 s with a short quiet period). The times are printed (``-s``)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from lightkube.resources.core_v1 import Node

from dockyard.adapters.kube.client import KubeCluster
from dockyard.domain.placement import POOL_LABEL
from dockyard.domain.remediation import TAINT_KEY
from dockyard.sandbox import problemdetector, processes, realnode
from dockyard.sandbox.topology import Pool, Topology, assign_pod_cidrs, node_manifests
from tests.integration.harness.client import Api, create_group, register_cluster
from tests.integration.harness.realnodes import RealNodes, real_spec
from tests.integration.harness.servers import in_process, settings
from tests.integration.harness.tokens import ADMIN
from tests.integration.harness.waiting import Not, eventually

R = "/api/v1/remediation"
EXT4 = "EXT4-fs error (device sda1): ext4_find_entry:1455: inode #2: comm ls: reading directory lblock 0"


@pytest.fixture
async def fast_api(real_nodes: RealNodes, database_url: str, kube: KubeCluster, tmp_path: Path) -> AsyncIterator[Api]:
    """Like ``api``, with remediation rounds every second."""
    system = f"npd-{uuid.uuid4().hex[:8]}"
    config = settings(database_url, tmp_path, remediation_every=1.0)
    async with in_process(config, headers=ADMIN) as server:
        await register_cluster(server.http, real_nodes.sandbox, labels={"idc": "local"})
        await create_group(server.http, system, business_id="b-1")
        yield Api(server.http, server.platform, system)
    await kube.delete("v1", "Namespace", system)


@pytest.fixture
async def spare_node(real_nodes: RealNodes, kube: KubeCluster) -> AsyncIterator[str]:
    """A KWOK node in the real node's pool (its labels and taint), cordoned: where the real node's
    instances can move. The pool's limit for 2 nodes is 1, so the real node may be taken."""
    real = await kube.get("v1", "Node", real_nodes.names[0])
    kwok = (await kube.list("v1", "Node", labels={"type": "kwok"}))[0]
    pool = Pool(name="spare", count=1, idc=real["metadata"]["labels"]["dockyard.io/idc"], cpuModel="spare")
    (node,) = node_manifests(Topology(pools=[pool]), kubelet_version=kwok["status"]["nodeInfo"]["kubeletVersion"])
    name = f"{real_nodes.pool}-kwok-0"
    node["metadata"]["name"] = name
    node["metadata"]["labels"].update({"kubernetes.io/hostname": name, POOL_LABEL: real_nodes.pool})
    node["spec"] = {"taints": [{"key": POOL_LABEL, "value": real_nodes.pool, "effect": "NoSchedule"}]}
    node["spec"]["unschedulable"] = True
    taken = {n["spec"].get("podCIDR", "") for n in await kube.list("v1", "Node")}
    assign_pod_cidrs([node], taken=taken)
    await kube.create(node)
    try:
        yield name
    finally:
        await kube.delete("v1", "Node", name)


def _condition(node: dict[str, Any], kind: str) -> dict[str, Any]:
    return next((c for c in node["status"].get("conditions") or [] if c["type"] == kind), {})


def _ours(node: dict[str, Any]) -> str:
    return next((t.get("value", "") for t in node["spec"].get("taints") or [] if t["key"] == TAINT_KEY), "")


def _restart_npd(nodes: RealNodes, *, rotate: bool) -> None:
    """Stop node 0's NPD by pid and start it again with the same command line (the log rotated first
    when ``rotate``): it starts with every condition False and reads the log from its lookback."""
    layout = nodes.sandbox.layout
    pid_file = layout.pid_file(f"{problemdetector.NAME}-0")
    found = processes.find(pid_file, marker=str(layout.root))
    assert found is not None, "NPD does not run beside the real node"
    argv = Path(f"/proc/{found.pid}/cmdline").read_text().split("\0")[:-1]
    processes.stop(pid_file, marker=str(layout.root))
    with contextlib.suppress(ChildProcessError):
        os.waitpid(found.pid, 0)  # started by this process (the fixture's `up`): reap it
    if rotate:
        problemdetector.rotate_log(problemdetector.log_path(realnode.real_dir(layout), 0))
    processes.start(argv, pid_file=pid_file, log_file=layout.log(f"{problemdetector.NAME}-0"))


async def test_an_ext4_error_in_the_kernel_log_takes_the_real_node_out_and_gives_it_back(
    fast_api: Api, real_nodes: RealNodes, spare_node: str, kube: KubeCluster
) -> None:
    api, name = fast_api, real_nodes.names[0]
    await api.act("deploy", {"spec": real_spec(real_nodes, "npd v1"), "deadline_seconds": 120})
    selector = {"dockyard.io/app": "web", "dockyard.io/group": "prod"}
    pods = await kube.list("v1", "Pod", namespace=api.system, labels=selector)
    assert {p["spec"]["nodeName"] for p in pods} == {name}
    budget = await kube.get("policy/v1", "PodDisruptionBudget", "web-prod", namespace=api.system)
    assert budget["spec"]["maxUnavailable"] == 1
    await kube.client.patch(Node, spare_node, {"spec": {"unschedulable": False}})
    policy = {"mode": "on", "max_share": 0.49, "quiet_seconds": 3.0}
    assert (await api.http.put(R, json=policy)).status_code == 200

    ready_counts: list[int] = []

    async def sample() -> None:
        while True:
            seen = await kube.list("v1", "Pod", namespace=api.system, labels=selector)
            ready_counts.append(sum(1 for p in seen if _ready(p)))
            await asyncio.sleep(0.2)

    sampler = asyncio.create_task(sample())
    log = problemdetector.log_path(realnode.real_dir(real_nodes.sandbox.layout), 0)
    times: dict[str, float] = {}
    try:
        start = time.monotonic()
        with log.open("a") as f:
            f.write(problemdetector.kernel_line(EXT4, host=name))

        async def condition() -> dict[str, Any] | Not:
            found = _condition(await kube.get("v1", "Node", name), "Ext4Error")
            return found if found.get("status") == "True" else Not(found)

        seen = await eventually(condition, "the Ext4Error condition", timeout=30, interval=0.2)
        times["condition"] = time.monotonic() - start
        assert seen["reason"] == "Ext4HasErrors"
        assert EXT4 in seen["message"]

        async def tainted() -> dict[str, Any] | Not:
            node = await kube.get("v1", "Node", name)
            return node if _ours(node) else Not(node["spec"])

        node = await eventually(tainted, "Dockyard's taint", timeout=30, interval=0.2)
        times["taint"] = time.monotonic() - start
        assert _ours(node) == "Ext4Error"
        assert node["spec"]["unschedulable"] is True

        async def event() -> bool | Not:  # the temporary rule's Event, beside the condition
            events = await kube.list("v1", "Event", namespace="default")
            found = [e for e in events if e["involvedObject"].get("name") == name and e.get("reason") == "Ext4Error"]
            return True if found else Not([e.get("reason") for e in events][-10:])

        await eventually(event, "NPD's Ext4Error Event", timeout=30)

        async def moved() -> list[str] | Not:
            seen = await kube.list("v1", "Pod", namespace=api.system, labels=selector)
            where = sorted(p["spec"].get("nodeName", "") for p in seen if _ready(p))
            return where if where == [spare_node] * 3 and len(seen) == 3 else Not(where)

        await eventually(moved, "the instances moved to the spare node", timeout=120, interval=0.5)
        times["moved"] = time.monotonic() - start
        history = (await api.http.get(f"{R}/history", params={"cluster": "local", "node": name})).json()
        assert sum(1 for h in history if h["kind"] == "evict" and h["outcome"] == "done") == 3, history

        # The repair: the log rotated, NPD restarted (conditions start False); the taint goes.
        _restart_npd(real_nodes, rotate=True)
        cleared_from = time.monotonic()

        async def cleared() -> bool | Not:
            found = _condition(await kube.get("v1", "Node", name), "Ext4Error")
            return True if found.get("status") == "False" else Not(found)

        await eventually(cleared, "the condition cleared by NPD", timeout=60, interval=0.2)
        times["cleared"] = time.monotonic() - cleared_from
        cleared_at = time.monotonic()

        async def untainted() -> dict[str, Any] | Not:
            node = await kube.get("v1", "Node", name)
            return node if not _ours(node) else Not(node["spec"])

        node = await eventually(untainted, "the taint removed", timeout=60, interval=0.2)
        times["untaint"] = time.monotonic() - cleared_at
        assert not node["spec"].get("unschedulable")
    finally:
        sampler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampler
        await api.http.put(R, json={**policy, "quiet_seconds": 0.0})
        if _condition(await kube.get("v1", "Node", name), "Ext4Error").get("status") == "True":
            _restart_npd(real_nodes, rotate=True)
        await eventually(lambda: _when_untainted(kube, name), "the real node given back", timeout=60, interval=0.5)
        await api.http.put(R, json={"mode": "off"})
    print(f"\nNPD → Dockyard times (s): {', '.join(f'{k} {v:.1f}' for k, v in times.items())}")
    assert min(ready_counts) >= 3 - 1, ready_counts  # never below the ready count minus the budget
    assert times["condition"] <= 10, times
    assert times["taint"] <= 15, times
    assert times["untaint"] <= 30, times


def _ready(pod: dict[str, Any]) -> bool:
    if pod["metadata"].get("deletionTimestamp"):
        return False
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions") or [])


async def _when_untainted(kube: KubeCluster, name: str) -> bool | Not:
    node = await kube.get("v1", "Node", name)
    return True if not _ours(node) else Not(node["spec"])
