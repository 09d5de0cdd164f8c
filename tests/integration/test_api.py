"""The REST API end to end: the server app in-process (with its executor and watch caches) and the real
sandbox; the race of two deploys and a revoked token on each database."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from lightkube.resources.apps_v1 import Deployment

from dockyard.adapters.kube.client import KubeCluster
from tests.integration.harness.client import Api
from tests.integration.harness.kube import settled
from tests.integration.harness.sandboxes import Sandbox, free_port
from tests.integration.harness.specs import WEB as V1
from tests.integration.harness.waiting import Not, eventually


async def test_deploy_scale_deploy_rollback_ends_exactly_at_v1(api: Api, kube: KubeCluster) -> None:
    await api.act("deploy", {"spec": V1})
    v1_template = (await kube.get("apps/v1", "Deployment", "web-prod", namespace=api.system))["spec"]["template"]
    await settled(kube, api.system, {"1": 3})

    await api.act("scale", {"instances": 5})
    await settled(kube, api.system, {"2": 5})
    await api.act(
        "deploy", {"changes": {"image": "registry.local/shop/web:2", "config_files": {"app.yaml": "greeting: bye\n"}}}
    )
    await settled(kube, api.system, {"3": 5})
    diff = (await api.http.get(f"{api.group}/diff", params={"old": 1, "new": 3})).json()
    assert {c["field"] for c in diff["changes"]} == {"image", "instances", "config_files.app.yaml"}

    await api.act("rollback", {"version": 1})
    deployment = await kube.get("apps/v1", "Deployment", "web-prod", namespace=api.system)
    assert deployment["spec"]["template"] == v1_template
    assert deployment["spec"]["replicas"] == 3
    await settled(kube, api.system, {"1": 3})
    config = await kube.get("v1", "ConfigMap", "web-prod-v1", namespace=api.system)
    assert list(config["data"].values()) == ["greeting: hello\n"]

    group = (await api.http.get(api.group)).json()
    assert (group["current_version"], group["latest_version"]) == (1, 3)
    instances = await _cached_instances(api, 3)
    assert {(i["version"], i["ready"]) for i in instances} == {("1", True)}
    history = (await api.http.get(f"{api.group}/operations")).json()
    assert [(o["action"], o["actor"], o["status"]) for o in history] == [
        ("rollback", "admin", "succeeded"),
        ("deploy", "admin", "succeeded"),
        ("scale", "admin", "succeeded"),
        ("deploy", "admin", "succeeded"),
        ("create-group", "admin", "succeeded"),
    ]
    versions = (await api.http.get(f"{api.group}/versions")).json()
    assert [(v["number"], v["spec"]["instances"]) for v in versions] == [(1, 3), (2, 5), (3, 5)]
    assert versions[1]["reason"] == "scale from 3 to 5 instances"


async def _cached_instances(api: Api, count: int) -> list[dict[str, Any]]:
    """The group's instances as the API shows them, once the watch cache has caught up."""

    async def shown() -> list[dict[str, Any]] | Not:
        body = (await api.http.get(f"{api.group}/instances")).json()
        live = [i for i in body["items"] if not i["deleting"]]
        return live if len(live) == count and all(i["ready"] for i in live) and not body["stale"] else Not(body)

    return await eventually(shown, f"the API to show {count} ready instances", timeout=30)


BAD_INPUT = [
    ("deploy", {"spec": {**V1, "instances": -1}}, "instances"),
    ("deploy", {"spec": {**V1, "instances": 100000}}, "instances"),
    ("deploy", {"spec": {**V1, "flavor": "huge"}}, "flavor"),
    ("deploy", {"spec": {**V1, "image": "Registry.Example.com/shop web:1"}}, "image"),
    ("deploy", {"spec": {**V1, "config_files": {"../etc/passwd": "x"}}}, "config_files.../etc/passwd"),
    ("deploy", {"spec": {**V1, "config_files": {"/etc/app.yaml": "x"}}}, "config_files./etc/app.yaml"),
    ("deploy", {"spec": {**V1, "config_files": {"big.bin": "x" * (10 * 1024 * 1024)}}}, "config_files.big.bin"),
    ("deploy", {"spec": {**V1, "ports": [{"name": "a", "port": 80}, {"name": "b", "port": 80}]}}, "ports[1].port"),
    ("deploy", {"spec": V1, "namespace": "kube-system"}, "namespace"),
    ("scale", {"instances": -3}, "instances"),
    ("scale", {"instances": 501}, "instances"),
    ("rollback", {"version": 0}, "version"),
    ("rollback", {"version": 2**40}, "version"),
    ("deploy", {"version": 2**40}, "version"),
    ("deploy", {"spec": V1, "deadline_seconds": 10**6}, "deadline_seconds"),
]


async def test_invalid_input_is_422_naming_the_field_and_writes_nothing(api: Api, kube: KubeCluster) -> None:
    before = (await api.http.get(f"/api/v1/systems/{api.system}/operations")).json()
    for action, body, field in BAD_INPUT:
        response = await api.http.post(f"{api.group}/{action}", json=body)
        assert response.status_code in (422, 409), (action, field, response.text)
        if response.status_code == 422:
            assert response.json()["details"]["field"] == field, (action, response.json())
    for path, body, field in [
        ("/api/v1/systems", {"name": "Bad_Name"}, "name"),
        ("/api/v1/systems", {"name": "kube-system"}, "name"),
        (f"/api/v1/systems/{api.system}/apps", {"name": "-web", "repository": "r.local/x"}, "name"),
        (
            f"/api/v1/systems/{api.system}/apps/web/groups",
            {"name": "pr-od", "environment": "prod", "cluster": "local"},
            "name",
        ),
        (
            f"/api/v1/systems/{api.system}/apps/web/groups",
            {"name": "qa", "environment": "qa", "cluster": "local"},
            "environment",
        ),
    ]:
        response = await api.http.post(path, json=body)
        assert response.status_code == 422, (path, body, response.text)
        assert response.json()["details"]["field"] == field
        assert response.json()["code"] == "invalid_input"
    for path in [f"{api.group}/versions/{2**40}", f"{api.group}/diff?old=1&new={2**40}"]:
        assert (await api.http.get(path)).status_code == 404, path  # not a 500 from an integer overflow
    for path in [f"{api.group}/operations?limit=0", f"{api.group}/operations?limit=abc"]:
        response = await api.http.get(path)
        assert (response.status_code, response.json()["details"]["field"]) == (422, "limit"), path
    assert (await api.http.get(f"/api/v1/systems/{api.system}/operations")).json() == before
    assert (await api.http.get(f"{api.group}/versions")).json() == []
    namespaces = {n["metadata"]["name"] for n in await kube.list("v1", "Namespace")}
    assert api.system not in namespaces


@pytest.mark.both_databases
async def test_two_concurrent_deploys_one_wins_the_other_gets_409(api: Api) -> None:
    bodies = [{"spec": {**V1, "instances": n}} for n in (2, 4)]
    responses = await asyncio.gather(*(api.http.post(f"{api.group}/deploy", json=b) for b in bodies))
    assert sorted(r.status_code for r in responses) == [202, 409]
    loser = next(r for r in responses if r.status_code == 409)
    assert loser.json()["code"] == "conflict"
    winner = next(r for r in responses if r.status_code == 202)
    done = await api.wait(winner.json())
    assert done["status"] == "succeeded"
    assert len((await api.http.get(f"{api.group}/versions")).json()) == 1  # the loser's version was not kept


@pytest.mark.both_databases
async def test_callers_without_rights_see_nothing_and_cannot_act(api: Api) -> None:
    http = api.http
    assert (await http.get("/api/v1/systems", headers={"Authorization": ""})).status_code == 401
    bad = await http.get("/api/v1/systems", headers={"Authorization": "Bearer dy_nope"})
    assert (bad.status_code, bad.json()["code"]) == (401, "unauthenticated")
    assert (await http.post("/api/v1/users", json={"name": "carol"})).status_code == 201
    made = await http.post("/api/v1/users/carol/tokens", json={"name": "ci", "expires_in_days": 1})
    assert made.status_code == 201
    carol = {"Authorization": f"Bearer {made.json()['token']}"}
    assert (await http.get("/api/v1/systems", headers=carol)).json() == []
    for path in [f"/api/v1/systems/{api.system}", api.group, f"{api.group}/instances", f"{api.group}/operations"]:
        response = await http.get(path, headers=carol)
        assert response.status_code == 404, path
        assert api.system in response.json()["message"] or "does not exist" in response.json()["message"]
    denied = await http.post("/api/v1/systems", json={"name": "mine"}, headers=carol)
    assert (denied.status_code, denied.json()["code"]) == (403, "forbidden")
    assert (await http.post(f"{api.group}/deploy", json={"spec": V1}, headers=carol)).status_code == 404
    assert (await http.get("/api/v1/clusters", headers=carol)).json()[0]["name"] == "local"
    assert "kubeconfig" not in (await http.get("/api/v1/clusters/local", headers=carol)).json()
    token_id = made.json()["id"]
    assert (await http.delete(f"/api/v1/users/me/tokens/{token_id}", headers=carol)).status_code == 204
    assert (await http.get("/api/v1/systems", headers=carol)).status_code == 401


async def test_edits_by_hand_show_as_drift_and_reconcile_takes_them_back(api: Api, kube: KubeCluster) -> None:
    await api.act("deploy", {"spec": V1})
    await api.group_when("healthy")
    image = {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "evil.local/web:x"}]}}}}
    await kube.client.patch(Deployment, "web-prod", image, namespace=api.system, field_manager="kubectl-set")
    env = {"name": "DEBUG", "value": "1"}
    extra = {
        "spec": {
            "template": {"spec": {"containers": [{"name": "app", "env": [{"name": "MODE", "value": "prod"}, env]}]}}
        }
    }
    await kube.client.patch(Deployment, "web-prod", extra, namespace=api.system, field_manager="kubectl-edit")

    drifted = await api.group_when("drifted")
    fields = {d["field"]: (d["expected"], d["live"]) for d in drifted["status"]["drift"]}
    assert fields["template.spec.containers[app].image"] == (V1["image"], "evil.local/web:x")
    assert "template.spec.containers[app].env" in fields

    await api.act("reconcile", {})
    await api.group_when("healthy")
    container = (await kube.get("apps/v1", "Deployment", "web-prod", namespace=api.system))["spec"]["template"]["spec"][
        "containers"
    ][0]
    assert container["image"] == V1["image"]
    assert container["env"] == [{"name": "MODE", "value": "prod"}]
    assert (await api.http.get(api.group)).json()["status"]["drift"] == []


async def test_a_cluster_that_cannot_be_reached_reads_as_stale_and_operations_on_it_wait_then_fail(
    api: Api, sandbox: Sandbox, tmp_path: Path
) -> None:
    text = sandbox.kubeconfig.read_text()
    dead = text.replace(f"127.0.0.1:{sandbox.ports.apiserver}", f"127.0.0.1:{free_port()}")
    cluster = {"name": "far", "kubeconfig": dead, "labels": {"provider": "cloud"}}
    assert (await api.http.put("/api/v1/clusters/far", json=cluster)).status_code == 201
    group = {"name": "gray", "environment": "prod", "cluster": "far"}
    assert (await api.http.post(f"/api/v1/systems/{api.system}/apps/web/groups", json=group)).status_code == 201
    far = (await api.http.get("/api/v1/clusters/far")).json()
    assert far["connected"] is False
    gray = f"/api/v1/systems/{api.system}/apps/web/groups/gray"
    assert (await api.http.get(f"{gray}/instances")).json() == {"stale": True, "items": []}

    started = time.monotonic()
    accepted = await api.http.post(f"{gray}/deploy", json={"spec": V1, "deadline_seconds": 5})
    done = await api.wait(accepted.json(), timeout=60)
    assert done["status"] == "failed"
    assert done["error"] == "progress deadline of 5s passed: cluster far did not answer"
    assert time.monotonic() - started >= 5  # it kept trying until the deadline
    assert (await api.http.get("/readyz")).status_code == 503  # the server is up and says why


async def test_a_namespace_dockyard_did_not_make_is_never_taken_over(api: Api, kube: KubeCluster) -> None:
    theirs = f"team-{uuid.uuid4().hex[:8]}"
    await kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": theirs}})
    try:
        http = api.http
        assert (await http.post("/api/v1/systems", json={"name": theirs})).status_code == 201
        app_body = {"name": "web", "repository": "registry.local/x/web"}
        assert (await http.post(f"/api/v1/systems/{theirs}/apps", json=app_body)).status_code == 201
        group = {"name": "prod", "environment": "prod", "cluster": "local"}
        assert (await http.post(f"/api/v1/systems/{theirs}/apps/web/groups", json=group)).status_code == 201
        accepted = await http.post(f"/api/v1/systems/{theirs}/apps/web/groups/prod/deploy", json={"spec": V1})
        done = await api.wait(accepted.json())
        assert done["status"] == "failed"
        assert f"namespace {theirs!r} exists and is not managed by Dockyard" in done["error"]
        assert await kube.list("v1", "LimitRange", namespace=theirs) == []
    finally:
        await kube.delete("v1", "Namespace", theirs)


async def test_after_a_failed_deploy_rollback_to_the_running_version_restores_it(api: Api, kube: KubeCluster) -> None:
    await api.act("deploy", {"spec": {**V1, "instances": 2}})
    accepted = await api.http.post(
        f"{api.group}/deploy",
        json={"changes": {"flavor": "xlarge", "instances": 200}, "deadline_seconds": 5, "force": True},
    )
    assert (await api.wait(accepted.json()))["status"] == "failed"
    assert (await api.http.get(api.group)).json()["current_version"] == 1
    await api.act("rollback", {"version": 1})
    await settled(kube, api.system, {"1": 2})
