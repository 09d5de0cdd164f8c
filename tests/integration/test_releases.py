"""Gray releases on the sandbox: steps with exact instance counts per version, promote, abort, a new
version that never becomes Ready, and a kill -9 of the server in the middle of a release."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from pathlib import Path
from typing import Any

import pytest

from dockyard.adapters.kube.client import KubeCluster
from dockyard.sandbox import cluster, processes
from tests.integration.harness.client import Api, create
from tests.integration.harness.kube import exists, settled
from tests.integration.harness.sandboxes import Sandbox
from tests.integration.harness.servers import SHORT_LEASE, InProcess, ServerProcess, process_env
from tests.integration.harness.specs import WEB as V1
from tests.integration.harness.tokens import ADMIN

V2_CHANGES = {"image": "registry.local/shop/web:2"}


async def _start(api: Api, steps: list[str], **extra: Any) -> dict[str, Any]:
    await api.act("deploy", {"spec": {**V1, "instances": 10}})
    response = await api.http.post(f"{api.group}/releases", json={"changes": V2_CHANGES, "steps": steps, **extra})
    assert response.status_code == 202, response.text
    return dict(response.json())


async def _canary_gone(kube: KubeCluster, system: str) -> bool:
    return not await exists(kube, "apps/v1", "Deployment", "web-prod-canary", namespace=system)


async def test_gray_release_steps_promote_and_finish(api: Api, kube: KubeCluster) -> None:
    release = await _start(api, ["gray 2", "pause", "50%", "pause", "100%"])
    assert (release["stable_version"], release["new_version"], release["total"]) == (1, 2, 10)

    # A second release, or a deploy, while this one runs: 409.
    again = await api.http.post(f"{api.group}/releases", json={"changes": {"image": "r/web:3"}})
    assert again.status_code == 409
    assert (await api.http.post(f"{api.group}/deploy", json={"version": 1})).status_code == 409

    await api.release_when(release["id"], "paused", step=1)
    await settled(kube, api.system, {"2": 2, "1": 8})
    service = await kube.get("v1", "Service", "web-prod", namespace=api.system)
    for pod in await kube.list("v1", "Pod", namespace=api.system, labels={"dockyard.io/group": "prod"}):
        assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()  # both versions served

    assert (await api.http.post(f"{api.group}/releases/{release['id']}/promote", json={})).status_code == 200
    await api.release_when(release["id"], "paused", step=3)
    await settled(kube, api.system, {"2": 5, "1": 5})

    assert (await api.http.post(f"{api.group}/releases/{release['id']}/promote", json={})).status_code == 200
    done = await api.release_when(release["id"], "succeeded")
    await settled(kube, api.system, {"2": 10})
    assert await _canary_gone(kube, api.system)
    deployment = await kube.get("apps/v1", "Deployment", "web-prod", namespace=api.system)
    assert deployment["spec"]["template"]["metadata"]["labels"]["dockyard.io/version"] == "2"
    group = (await api.http.get(api.group)).json()
    assert group["current_version"] == 2
    # The ledger: the start, each instance step with its counts and checks, the promotes, the end.
    events = [e["event"] for e in done["ledger"]]
    assert events == ["started", "step", "promote", "step", "promote", "step", "succeeded"]
    steps = [(e["step"], e["new"], e["stable"]) for e in done["ledger"] if e["event"] == "step"]
    assert steps == [("gray 2", 2, 8), ("50%", 5, 5), ("100%", 10, 0)]
    assert all(c["ok"] for e in done["ledger"] if e["event"] == "step" for c in e["checks"])
    # Ended: commands are refused.
    assert (await api.http.post(f"{api.group}/releases/{release['id']}/abort")).status_code == 409


async def test_abort_at_half_brings_back_the_stable_version(api: Api, kube: KubeCluster) -> None:
    release = await _start(api, ["gray 2", "pause", "50%", "pause", "100%"])
    await api.release_when(release["id"], "paused", step=1)
    promote = await api.http.post(f"{api.group}/releases/{release['id']}/promote", json={})
    assert promote.status_code == 200
    await api.release_when(release["id"], "paused", step=3)
    await settled(kube, api.system, {"2": 5, "1": 5})

    assert (await api.http.post(f"{api.group}/releases/{release['id']}/abort")).status_code == 200
    aborted = await api.release_when(release["id"], "aborted")
    assert "aborted at step 4" in aborted["error"]
    await settled(kube, api.system, {"1": 10})
    assert await _canary_gone(kube, api.system)
    assert (await api.http.get(api.group)).json()["current_version"] == 1
    operation = (await api.http.get(f"/api/v1/operations/{release['id']}")).json()
    assert (operation["status"], operation["action"]) == ("failed", "release")


async def test_a_version_that_never_becomes_ready_aborts_by_itself(api: Api, kube: KubeCluster) -> None:
    """The system's quota leaves room for the stable instances, not for the new, bigger ones."""
    system = f"quota-{uuid.uuid4().hex[:6]}"
    base = f"/api/v1/systems/{system}"
    body = {"name": system, "quota": {"cpu_millis": 12000, "memory_mib": 65536}}
    assert (await api.http.post("/api/v1/systems", json=body)).status_code == 201
    assert (await api.http.post(f"{base}/apps", json={"name": "web", "repository": "r/web"})).status_code == 201
    group = {"name": "prod", "environment": "prod", "cluster": "local"}
    assert (await api.http.post(f"{base}/apps/web/groups", json=group)).status_code == 201
    quota_api = Api(api.http, api.platform, system)
    try:
        await quota_api.act("deploy", {"spec": {**V1, "flavor": "small", "instances": 10}})
        changes = {"changes": {"flavor": "xlarge"}, "steps": ["gray 2", "100%"], "step_deadline_seconds": 10}
        started = await api.http.post(f"{quota_api.group}/releases", json=changes)
        assert started.status_code == 202, started.text
        aborted = await quota_api.release_when(started.json()["id"], "aborted", timeout=90)
        assert "0/2 instances of version 2 ready after 10s" in aborted["error"]
        await settled(kube, system, {"1": 10})
        assert await _canary_gone(kube, system)
    finally:
        await kube.delete("v1", "Namespace", system)


@pytest.mark.both_databases  # operations and releases persisted, leases: resumed by another process
async def test_a_release_survives_kill_9_of_the_server(
    passive_server: InProcess, kube: KubeCluster, database_url: str, tmp_path: Path
) -> None:
    """The in-process app here runs no executor: a server process drives the release, is killed (-9)
    at its pause, and a second one, after the lease lapses, finishes it from the same step: the split
    is kept, the canary is not made again, each step is in the ledger once."""
    http = passive_server.http
    http.headers.update(ADMIN)
    api = Api(http, passive_server.platform, f"kill-{uuid.uuid4().hex[:6]}")
    base = f"/api/v1/systems/{api.system}"
    await create(
        http,
        ("/api/v1/systems", {"name": api.system}),
        (f"{base}/apps", {"name": "web", "repository": "r/web"}),
        (f"{base}/apps/web/groups", {"name": "prod", "environment": "prod", "cluster": "local"}),
        (f"{api.group}/versions", {"spec": {**V1, "instances": 10}}),
        (f"{api.group}/versions", {"changes": V2_CHANGES}),
    )
    secret_key_file = str(passive_server.settings.secret_key_file)
    env = process_env(database_url, tmp_path / "state", DOCKYARD_SECRET_KEY_FILE=secret_key_file, **SHORT_LEASE)
    first = ServerProcess.start(env, tmp_path / "server-1.log")
    try:
        deploy = (await http.post(f"{api.group}/deploy", json={"version": 1})).json()
        assert (await api.wait(deploy))["status"] == "succeeded", "the first server did not deploy v1"
        body = {"version": 2, "steps": ["gray 3", "pause", "100%"]}
        release = (await http.post(f"{api.group}/releases", json=body)).json()
        await api.release_when(release["id"], "paused", step=1)
        await settled(kube, api.system, {"2": 3, "1": 7})
        first.kill()  # SIGKILL: no shutdown, its lease on the release lapses in 3 s

        promote = await http.post(f"{api.group}/releases/{release['id']}/promote", json={})
        assert promote.status_code == 200
        await asyncio.sleep(2)
        await settled(kube, api.system, {"2": 3, "1": 7})  # nobody drives it: the split holds
        second = ServerProcess.start(env, tmp_path / "server-2.log", port=first.port)
        try:
            done = await api.wait(release, timeout=180)
            assert done["status"] == "succeeded", (tmp_path / "server-2.log").read_text()[-3000:]
        finally:
            second.stop()
        await settled(kube, api.system, {"2": 10})
        done = (await http.get(f"{api.group}/releases/{release['id']}")).json()
        # Each step once: the one done before the kill was not done again.
        assert [e.get("step") for e in done["ledger"] if e["event"] == "step"] == ["gray 3", "100%"]
        assert await _canary_gone(kube, api.system)
    finally:
        if first.running():
            first.kill()
        await kube.delete("v1", "Namespace", api.system)


async def test_a_release_waits_out_a_60s_apiserver_outage_and_converges(
    api: Api, kube: KubeCluster, sandbox: Sandbox
) -> None:
    release = await _start(api, ["gray 2", "pause", "100%"])
    await api.release_when(release["id"], "paused", step=1)
    await settled(kube, api.system, {"2": 2, "1": 8})
    apiserver = processes.find(sandbox.layout.pid_file("kube-apiserver"), marker=str(sandbox.layout.root))
    assert apiserver is not None
    assert (await api.http.post(f"{api.group}/releases/{release['id']}/promote", json={})).status_code == 200
    os.kill(apiserver.pid, signal.SIGKILL)
    try:
        waiting = await api.release_when(release["id"], "waiting", timeout=30)
        assert waiting["ledger"][-1]["event"] == "waiting"
        await asyncio.sleep(60)
        assert (await api.http.get(f"{api.group}/releases/{release['id']}")).json()["status"] == "waiting"
    finally:
        await asyncio.to_thread(cluster.up, sandbox.layout)  # the apiserver comes back
    done = await api.release_when(release["id"], "succeeded", timeout=180)
    await settled(kube, api.system, {"2": 10}, timeout=120)
    assert [e["step"] for e in done["ledger"] if e["event"] == "step"] == ["gray 2", "100%"]


async def _selector(kube: KubeCluster, system: str) -> dict[str, str]:
    service = await kube.get("v1", "Service", "web-prod", namespace=system)
    return dict(service["spec"]["selector"])


async def test_blue_green_switches_the_service_and_switches_back_on_abort(api: Api, kube: KubeCluster) -> None:
    await api.act("deploy", {"spec": {**V1, "instances": 4}})
    body = {"changes": V2_CHANGES, "strategy": "blue-green", "keep_seconds": 600}
    release = (await api.http.post(f"{api.group}/releases", json=body)).json()
    switched = await api.release_when(release["id"], "paused", step=1)
    await settled(kube, api.system, {"1": 4, "2": 4})  # both full sets
    assert (await _selector(kube, api.system))["dockyard.io/version"] == "2"
    assert switched["ledger"][-1]["event"] == "switched"

    assert (await api.http.post(f"{api.group}/releases/{release['id']}/abort")).status_code == 200
    await api.release_when(release["id"], "aborted")
    await settled(kube, api.system, {"1": 4})
    assert "dockyard.io/version" not in await _selector(kube, api.system)  # the whole group again
    assert await _canary_gone(kube, api.system)

    again = (await api.http.post(f"{api.group}/releases", json=body)).json()
    await api.release_when(again["id"], "paused", step=1)
    assert (await api.http.post(f"{api.group}/releases/{again['id']}/promote", json={})).status_code == 200
    done = await api.release_when(again["id"], "succeeded")
    await settled(kube, api.system, {"3": 4})  # changes again: a version 3 like 2
    assert "dockyard.io/version" not in await _selector(kube, api.system)
    assert await _canary_gone(kube, api.system)
    assert [e["event"] for e in done["ledger"]] == ["started", "switched", "promote", "succeeded"]
    assert (await api.http.get(api.group)).json()["current_version"] == 3


async def test_a_scale_during_a_release_changes_the_total_and_keeps_the_split(api: Api, kube: KubeCluster) -> None:
    release = await _start(api, ["gray 2", "pause", "100%"])
    await api.release_when(release["id"], "paused", step=1)
    await settled(kube, api.system, {"2": 2, "1": 8})
    scaled = await api.http.post(f"{api.group}/scale", json={"instances": 12})
    assert scaled.status_code == 202
    assert scaled.json()["id"] == release["id"]  # the release takes it
    await settled(kube, api.system, {"2": 2, "1": 10})
    assert (await api.http.post(f"{api.group}/releases/{release['id']}/promote", json={})).status_code == 200
    done = await api.release_when(release["id"], "succeeded")
    await settled(kube, api.system, {"3": 12})  # a copy of version 2 with the new count
    events = [e["event"] for e in done["ledger"]]
    assert events == ["started", "step", "scale", "scaled", "promote", "step", "succeeded"]
    group = (await api.http.get(api.group)).json()
    assert group["current_version"] == 3
    versions = (await api.http.get(f"{api.group}/versions")).json()
    assert "scaled to 12 instances during the release" in versions[-1]["reason"]
