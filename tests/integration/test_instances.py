"""One instance's actions against the sandbox: restart deletes its pod and the group brings another,
its events come from the cluster's Events, its log is read or refused clearly; each is audited."""

from __future__ import annotations

from typing import Any

from tests.integration.harness.client import Api
from tests.integration.harness.waiting import Not, eventually

SPEC = {"image": "registry.local/shop/web:1", "flavor": "tiny", "instances": 2}


async def _ready(api: Api, count: int) -> list[dict[str, Any]]:
    async def ready() -> list[dict[str, Any]] | Not:
        items: list[dict[str, Any]] = (await api.http.get(f"{api.group}/instances")).json()["items"]
        live = [i for i in items if not i["deleting"]]
        return live if len(live) == count and all(i["ready"] for i in live) else Not(items)

    return await eventually(ready, f"{count} ready instances", timeout=90)


async def test_restart_an_instance_and_read_its_events_and_log(api: Api) -> None:
    await api.act("deploy", {"spec": SPEC})
    before = await _ready(api, 2)
    victim = before[0]["name"]
    assert before[0]["node"]
    assert before[0]["host_ip"]

    events = await api.http.get(f"{api.group}/instances/{victim}/events")
    assert events.status_code == 200, events.text
    assert "Scheduled" in [e["reason"] for e in events.json()["items"]]
    assert events.json()["cluster"] == "local"

    log = await api.http.get(f"{api.group}/instances/{victim}/logs", params={"tail": 20})
    # KWOK pods run nothing: their node has no kubelet to give a log. The answer says so, never a 500.
    assert log.status_code in (200, 409, 503), log.text
    if log.status_code != 200:
        assert log.json()["message"].startswith(("the log of instance", "cluster 'local' did not give the log"))
    bad_tail = await api.http.get(f"{api.group}/instances/{victim}/logs", params={"tail": 0})
    assert (bad_tail.status_code, bad_tail.json()["details"]["field"]) == (422, "tail")

    restarted = await api.http.post(f"{api.group}/instances/{victim}/restart")
    assert restarted.status_code == 200, restarted.text
    assert restarted.json()["instance"]["name"] == victim
    after = await _ready(api, 2)
    assert victim not in {i["name"] for i in after}  # a new instance in its place
    versions = (await api.http.get(f"{api.group}/versions")).json()
    assert len(versions) == 1  # the group itself did not change

    other = await api.http.post(f"{api.path('prod', 'nope')}/instances/{after[0]['name']}/restart")
    assert other.status_code == 404
    gone = await api.http.post(f"{api.group}/instances/{victim}/restart")
    assert gone.status_code == 404

    trail = (await api.http.get("/api/v1/audit", params={"system": api.system})).json()["items"]
    restarts = [(e["target"].get("instance"), e["status"]) for e in trail if e["action"] == "restart_instance"]
    assert (victim, 200) in restarts, restarts
    assert (victim, 404) in restarts, restarts


async def test_the_system_page_lists_every_group_with_its_state_version_and_instances(api: Api) -> None:
    canary = {"name": "canary", "environment": "test", "cluster": "local"}
    made = await api.http.post(f"/api/v1/systems/{api.system}/apps/web/groups", json=canary)
    assert made.status_code == 201, made.text
    await api.act("deploy", {"spec": {**SPEC, "instances": 1}})
    await _ready(api, 1)
    listed = await api.http.get(f"/api/v1/systems/{api.system}/groups")
    assert listed.status_code == 200, listed.text
    rows = {(g["app"], g["name"]): g for g in listed.json()}
    assert list(rows) == [("web", "canary"), ("web", "prod")]
    prod = rows[("web", "prod")]
    assert (prod["current_version"], prod["status"]["state"], prod["status"]["ready"]) == (1, "healthy", 1)
    assert rows[("web", "canary")]["status"]["state"] == "not-deployed"
    assert (await api.http.get("/api/v1/systems/no-such-system/groups")).status_code == 404
