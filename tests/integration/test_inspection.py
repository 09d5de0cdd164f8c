"""Inspection against the sandbox: a run reports the real control plane and the KWOK nodes ok; a
node given a node-problem-detector condition (its status patched, as NPD does) fails the kernel check,
a channel of the notify system is told once however many runs see it, and told resolved when it
clears; the diff shows each change (on SQLite and PostgreSQL: the runs and the alerts are rows).
Remediation takes only its share of a pool's nodes given the condition at once, reports the rest,
holds still while paused (a node falling sick meanwhile is not taken) and gives nodes back once the
condition has cleared. A scheduled run at its (injected) time is made once, reports a stopped apiserver
of a second cluster as failed and tells it; the next one shows it back."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from lightkube.resources.core_v1 import Node

from dockyard.adapters.kube.client import KubeCluster
from dockyard.domain.placement import POOL_LABEL
from dockyard.domain.remediation import TAINT_KEY
from dockyard.sandbox import cluster, processes
from dockyard.services import inspection
from dockyard.services.inspection import ALERT_NAME
from tests.integration.harness.client import register_cluster
from tests.integration.harness.sandboxes import Sandbox
from tests.integration.harness.servers import InProcess, in_process, settings
from tests.integration.harness.tokens import ADMIN
from tests.integration.harness.waiting import Not, eventually
from tests.receivers import HttpReceiver, http_receiver

BASE = "/api/v1/inspections"
R = "/api/v1/remediation"
SECRET = "inspection-integration-secret-77"
CONTROL_PLANE = ("apiserver", "etcd", "certificates", "controller-manager-scheduler", "metrics-api")


@pytest.fixture
def hook() -> Iterator[HttpReceiver]:
    with http_receiver() as receiver:
        yield receiver


@pytest.fixture
async def server(
    sandbox: Sandbox, database_url: str, tmp_path: Path, hook: HttpReceiver
) -> AsyncIterator[tuple[InProcess, str]]:
    """A server (executor on: the notifier runs) with the sandbox as cluster ``local`` and a system
    whose webhook channel is told of failed checks."""
    async with in_process(settings(database_url, tmp_path), headers=ADMIN) as running:
        await register_cluster(running.http, sandbox)
        system = f"ops-{uuid.uuid4().hex[:8]}"
        assert (await running.http.post("/api/v1/systems", json={"name": system})).status_code == 201
        channel = {"name": "pager", "kind": "webhook", "target": hook.url, "secret": SECRET}
        assert (await running.http.post(f"/api/v1/systems/{system}/channels", json=channel)).status_code == 201
        made = await running.http.put(f"{BASE}/schedule", json={"notify_system": system})
        assert made.status_code == 200, made.text
        yield running, system


def local(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["check"]: f for f in run["findings"] if f["cluster"] == "local"}


async def inspect_once(running: InProcess) -> dict[str, Any]:
    answer = await running.http.post(BASE, json={"clusters": ["local"]})
    assert answer.status_code == 201, answer.text
    run: dict[str, Any] = answer.json()
    return run


def told(hook: HttpReceiver, check: str) -> list[str]:
    out = []
    for post in hook.posts:
        sent = json.loads(post.body)
        alert = sent.get("alert") or {}
        if alert.get("name") == ALERT_NAME and alert["labels"].get("check") == check:
            out.append(sent["kind"])
    return out


@pytest.mark.both_databases
async def test_a_kernel_condition_fails_the_check_is_told_once_and_the_diff_shows_it(
    server: tuple[InProcess, str], kube: KubeCluster, hook: HttpReceiver
) -> None:
    running, _ = server

    async def healthy() -> dict[str, Any] | Not:
        run = await inspect_once(running)
        found = local(run)
        # Every check ok but the components' (below): the shared sandbox may still be deleting an
        # earlier test's instances, which the "terminating" check rightly reports.
        bad = {k: f["result"] for k, f in found.items() if f["result"] != "ok"}
        return run if set(bad) <= {"controller-manager-scheduler"} else Not(found)

    first = await eventually(healthy, "a run seeing the sandbox's nodes, nothing left over", timeout=120)
    found = local(first)
    # The sandbox runs its controller-manager and scheduler without leader election, on ports picked
    # for the test run: the apiserver's probe of their default ports cannot reach them, which the
    # check reports as a warning (a failure needs a leader lease that stopped being renewed).
    components = found.pop("controller-manager-scheduler")
    assert components["result"] in ("ok", "warning"), components
    if components["result"] == "warning":
        assert "no leader lease" in components["summary"]
    bad = {k: (f["result"], f["summary"]) for k, f in found.items() if f["result"] != "ok"}
    assert bad == {}, bad
    for check in CONTROL_PLANE[:3] + CONTROL_PLANE[4:]:
        assert found[check]["result"] == "ok", found[check]
    assert found["etcd"]["evidence"]["db_bytes"] > 0
    assert found["certificates"]["evidence"]["days_left"] > 30
    assert found["nodes-ready"]["evidence"]["nodes"] >= 20

    nodes = await kube.list("v1", "Node", labels={"type": "kwok"})
    name = sorted(n["metadata"]["name"] for n in nodes)[0]
    problem = {"type": "KernelDeadlock", "status": "True", "reason": "DockerHung",
               "message": "task docker:7 blocked for more than 120 seconds."}  # fmt: skip
    await kube.client.patch(Node.Status, name, {"status": {"conditions": [problem]}})
    try:

        async def failing() -> dict[str, Any] | Not:
            run = await inspect_once(running)
            kernel = local(run)["kernel"]
            return run if kernel["result"] == "failed" else Not(kernel)

        second = await eventually(failing, "the kernel check failing", timeout=30)
        kernel = local(second)["kernel"]
        assert name in kernel["summary"]
        assert kernel["evidence"]["nodes"][name] == [
            {"type": "KernelDeadlock", "reason": "DockerHung", "message": problem["message"]}
        ]
        assert {"cluster": "local", "check": "kernel", "before": "ok", "after": "failed",
                "summary": kernel["summary"]} in second["changes"]  # fmt: skip
        await eventually(lambda: told(hook, "kernel") == ["firing"] or Not(told(hook, "kernel")), "told", timeout=30)

        third = await inspect_once(running)  # still failing: the same episode, told no more
        assert local(third)["kernel"]["since"] == kernel["since"]
        assert all(c["check"] != "kernel" for c in third["changes"])
        await asyncio.sleep(3)  # notifier rounds
        assert told(hook, "kernel") == ["firing"]
        diff = (await running.http.get(f"{BASE}/{third['id']}/diff", params={"against": first["id"]})).json()
        assert [(c["check"], c["before"], c["after"]) for c in diff["changes"] if c["cluster"] == "local"] == [
            ("kernel", "ok", "failed")
        ]
    finally:
        cleared = {**problem, "status": "False", "reason": "KernelHasNoDeadlock", "message": "kernel has no deadlock"}
        await kube.client.patch(Node.Status, name, {"status": {"conditions": [cleared]}})

    async def recovered() -> dict[str, Any] | Not:
        run = await inspect_once(running)
        kernel = local(run)["kernel"]
        return run if kernel["result"] == "ok" else Not(kernel)

    fourth = await eventually(recovered, "the kernel check ok again", timeout=30)
    assert ("kernel", "failed", "ok") in [(c["check"], c["before"], c["after"]) for c in fourth["changes"]]
    await eventually(
        lambda: told(hook, "kernel") == ["firing", "resolved"] or Not(told(hook, "kernel")), "told resolved", timeout=30
    )


def _taken(nodes: list[dict[str, Any]]) -> list[str]:
    return sorted(
        n["metadata"]["name"]
        for n in nodes
        if n["spec"].get("unschedulable") and any(t["key"] == TAINT_KEY for t in n["spec"].get("taints") or [])
    )


async def test_remediation_takes_only_the_pools_share_the_pause_holds_it_and_gives_back(
    server: tuple[InProcess, str], kube: KubeCluster
) -> None:
    running, _ = server
    nodes = await kube.list("v1", "Node", labels={"type": "kwok"})
    pools: dict[str, list[str]] = {}
    for n in nodes:
        pools.setdefault(n["metadata"]["labels"][POOL_LABEL], []).append(n["metadata"]["name"])
    pool, members = max(pools.items(), key=lambda p: len(p[1]))
    sick = sorted(members)[: max(2, round(0.3 * len(members)))]  # 30 % of the pool at once
    other_pool = sorted(p for p in pools if p != pool)[0]
    late = sorted(pools[other_pool])[0]  # falls sick while paused
    allowed = max(1, int(0.2 * len(members)))
    assert len(sick) > allowed
    policy = {"mode": "on", "max_share": 0.2, "quiet_seconds": 2.0}
    assert (await running.http.put(R, json=policy)).status_code == 200

    async def pool_taken() -> list[str]:
        return _taken(await kube.list("v1", "Node", labels={POOL_LABEL: pool}))

    problem = {"type": "KernelDeadlock", "status": "True", "reason": "DockerHung", "message": "blocked"}
    cleared = {"type": "KernelDeadlock", "status": "False", "reason": "KernelHasNoDeadlock", "message": "ok"}
    try:
        for name in sick:
            await kube.client.patch(Node.Status, name, {"status": {"conditions": [problem]}})

        async def share_taken() -> list[str] | Not:
            seen = await pool_taken()
            if len(seen) == allowed:
                return seen
            history = (await running.http.get(f"{R}/history", params={"cluster": "local"})).json()
            return Not({"taken": seen, "history": history[:10]})

        taken = await eventually(share_taken, "the pool's share taken", timeout=60)
        assert set(taken) <= set(sick)
        await asyncio.sleep(12)  # another round: never more than the share
        assert await pool_taken() == taken
        held = [n for n in sick if n not in taken]
        plans = (await running.http.get(f"{R}/plan")).json()
        reported = {h["node"]: h["why"] for p in plans for h in p["held"]}
        assert all(f"at most {allowed} at once" in reported[n] for n in held), reported
        history = (await running.http.get(f"{R}/history", params={"cluster": "local"})).json()
        assert {h["node"] for h in history if h["kind"] == "held"} >= set(held)

        # The pause switch: a node that recovers stays taken while paused, and is given back on resume.
        assert (await running.http.put(R, json={**policy, "paused": True})).status_code == 200
        await kube.client.patch(Node.Status, taken[0], {"status": {"conditions": [cleared]}})
        await kube.client.patch(Node.Status, late, {"status": {"conditions": [problem]}})
        await asyncio.sleep(15)  # past the quiet period, over a round
        assert taken[0] in await pool_taken()
        assert _taken(await kube.list("v1", "Node", labels={POOL_LABEL: other_pool})) == []  # stopped at once
        plans = (await running.http.get(f"{R}/plan")).json()
        assert {h["node"]: h["why"] for p in plans for h in p["held"]}.get(late) == "remediation is paused"
        assert (await running.http.put(R, json=policy)).status_code == 200
        await eventually(lambda: _when(pool_taken, lambda t: taken[0] not in t), "given back on resume", timeout=40)
    finally:
        for name in [*sick, late]:
            await kube.client.patch(Node.Status, name, {"status": {"conditions": [cleared]}})
        await running.http.put(R, json={**policy, "quiet_seconds": 0.0})
        await eventually(lambda: _when(pool_taken, lambda t: t == []), "every node given back", timeout=60)
        await eventually(lambda: _when(lambda: _everywhere(kube), lambda t: t == []), "none taken", timeout=60)
        await running.http.put(R, json={"mode": "off"})


async def _everywhere(kube: KubeCluster) -> list[str]:
    return _taken(await kube.list("v1", "Node", labels={"type": "kwok"}))


async def _when(read: Any, ok: Any) -> Any:
    seen = await read()
    return (seen or True) if ok(seen) else Not(seen)


async def test_a_scheduled_run_at_its_time_reports_once_a_stopped_apiserver_fails_and_is_told(
    server: tuple[InProcess, str], second_sandbox: Sandbox, hook: HttpReceiver
) -> None:
    """The schedule's clock injected: two servers looking at the slot make one run; the second
    cluster's apiserver, stopped before it, fails the ``apiserver`` check there and is told through
    the channel; the next day's run, with the apiserver back, shows the change."""
    running, system = server
    await register_cluster(running.http, second_sandbox, name="b")
    wanted = {"cron": "30 17 * * *", "timezone": "UTC", "enabled": True, "notify_system": system}  # PUT replaces all
    made = await running.http.put(f"{BASE}/schedule", json=wanted)
    assert made.status_code == 200, made.text
    due = dt.datetime.fromisoformat((await running.http.get(f"{BASE}/schedule")).json()["next_at"])
    layout = second_sandbox.layout

    def told_b() -> list[str]:
        sent = [json.loads(p.body) for p in hook.posts]
        return [
            s["kind"]
            for s in sent
            if (s.get("alert") or {}).get("name") == ALERT_NAME
            and s["alert"]["labels"].get("cluster") == "b"
            and s["alert"]["labels"].get("check") == "apiserver"
        ]

    assert processes.stop(layout.pid_file("kube-apiserver"), marker=str(layout.root))
    try:
        ran = await inspection.tick(running.platform, now=due + dt.timedelta(seconds=1))
        assert await inspection.tick(running.platform, now=due + dt.timedelta(seconds=2)) is None  # taken
        assert ran is not None
        assert ran.trigger == "schedule"
        listed = (await running.http.get(BASE)).json()
        assert [r["trigger"] for r in listed] == ["schedule"]
        first = (await running.http.get(f"{BASE}/{ran.id}")).json()
        on_b = {f["check"]: f for f in first["findings"] if f["cluster"] == "b"}
        assert on_b["apiserver"]["result"] == "failed", on_b["apiserver"]
        assert first["result"] == "failed"
        await eventually(lambda: told_b() == ["firing"] or Not(told_b()), "the stopped apiserver told", timeout=30)
    finally:
        await asyncio.to_thread(cluster.up, layout, ports=second_sandbox.ports)  # waits until it answers
    following = await inspection.tick(running.platform, now=due + dt.timedelta(days=1, seconds=1))
    assert following is not None
    assert following.trigger == "schedule"
    second = (await running.http.get(f"{BASE}/{following.id}")).json()
    assert ("b", "apiserver", "failed", "ok") in [
        (c["cluster"], c["check"], c["before"], c["after"]) for c in second["changes"]
    ], second["changes"]
    diff = (await running.http.get(f"{BASE}/{following.id}/diff", params={"against": ran.id})).json()
    assert ("b", "apiserver", "failed", "ok") in [
        (c["cluster"], c["check"], c["before"], c["after"]) for c in diff["changes"]
    ]
    await eventually(
        lambda: told_b() == ["firing", "resolved"] or Not(told_b()), "the apiserver told resolved", timeout=30
    )
