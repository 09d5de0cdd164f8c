"""Inspection through the API on a SQLite file, with a cluster nothing answers at: a run reports the
failed control plane with its evidence, tells the notify system's channel once however many runs
see the failure, the diff says what changed; the schedule is checked, runs once per slot whatever
the number of servers looking, and only admins see any of it."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dockyard.services import inspection
from dockyard.services.platform import Platform
from tests.receivers import HttpReceiver, http_receiver
from tests.unit.api.alerting_world import AUTH, ok, user, world_client

BASE = "/api/v1/inspections"
SECRET = "inspection-channel-secret-0123"


@pytest.fixture
def hook() -> Iterator[HttpReceiver]:
    with http_receiver() as receiver:
        yield receiver


@pytest.fixture
def world(tmp_path: Path) -> Iterator[TestClient]:
    yield from world_client(tmp_path, executor=True)


def by_key(run: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(f["cluster"], f["check"]): f for f in run["findings"]}


def inspection_posts(hook: HttpReceiver) -> list[tuple[str, str, str]]:
    out = []
    for post in hook.posts:
        sent = json.loads(post.body)
        alert = sent.get("alert") or {}
        if alert.get("name") == inspection.ALERT_NAME:
            out.append((alert["labels"]["cluster"], alert["labels"]["check"], sent["kind"]))
    return sorted(out)


def wait(check: Any, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_a_run_reports_each_check_with_evidence_and_tells_a_failure_once(world: TestClient, hook: HttpReceiver) -> None:
    channel = {"name": "ops", "kind": "webhook", "target": hook.url, "secret": SECRET}
    ok(world.post("/api/v1/systems/shop/channels", json=channel, headers=AUTH), 201)
    ok(world.put(f"{BASE}/schedule", json={"notify_system": "shop"}, headers=AUTH))

    first = ok(world.post(BASE, json={}, headers=AUTH), 201).json()
    assert (first["status"], first["result"], first["trigger"], first["requested_by"]) == (
        "done", "failed", "manual", "admin"
    )  # fmt: skip
    found = by_key(first)
    apiserver = found[("far", "apiserver")]
    assert apiserver["result"] == "failed"
    assert apiserver["since"] is not None
    assert "not ready" in apiserver["summary"]
    assert found[("far", "nodes-ready")]["result"] == "failed"  # the watch caches never listed
    assert found[("(dockyard)", "audit-chain")]["result"] == "ok"
    assert found[("(dockyard)", "database")]["evidence"]["bytes"] > 0
    assert sum(first["counts"].values()) == len(first["findings"])
    assert first["previous_id"] is None

    failed = sorted(k for k, f in found.items() if f["result"] == "failed")
    wait(lambda: len(inspection_posts(hook)) >= len(failed), "every failure told")

    second = ok(world.post(BASE, json={}, headers=AUTH), 201).json()
    assert second["previous_id"] == first["id"]
    assert second["changes"] == []
    assert by_key(second)[("far", "apiserver")]["since"] == apiserver["since"]  # the same episode
    time.sleep(3.0)  # notifier rounds: nothing more arrives for the same failures
    assert inspection_posts(hook) == sorted((c, k, "firing") for c, k in failed)

    listed = ok(world.get(BASE, headers=AUTH)).json()
    assert [r["id"] for r in listed] == [second["id"], first["id"]]
    assert listed[0]["findings"] == []
    diff = ok(world.get(f"{BASE}/{second['id']}/diff", headers=AUTH)).json()
    assert diff == {"run": second["id"], "against": first["id"], "changes": []}
    alerts = ok(world.get("/api/v1/systems/shop/alerts", headers=AUTH)).json()
    assert {a["labels"]["check"] for a in alerts} == {k for _, k in failed}


def test_a_run_of_one_cluster_and_what_changed(world: TestClient) -> None:
    whole = ok(world.post(BASE, json={}, headers=AUTH), 201).json()
    one = ok(world.post(BASE, json={"clusters": ["far"]}, headers=AUTH), 201).json()
    assert {f["cluster"] for f in one["findings"]} == {"far"}
    assert one["changes"] == []  # compared with the same cluster of the whole run only
    # against an explicit older run, and a run with nothing before it
    assert (
        ok(world.get(f"{BASE}/{one['id']}/diff", params={"against": whole["id"]}, headers=AUTH)).json()["changes"] == []
    )
    assert ok(world.get(f"{BASE}/{whole['id']}/diff", headers=AUTH)).json()["against"] is None
    bad = world.post(BASE, json={"clusters": ["nowhere"]}, headers=AUTH)
    assert bad.status_code == 422
    assert bad.json()["details"]["field"] == "cluster"
    assert world.get(f"{BASE}/999999", headers=AUTH).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"cron": "61 * * * *"}, "cron"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"notify_system": "nosuch"}, "notify_system"),
        ({"enabled": "yes"}, "enabled"),
    ],
)
def test_a_bad_schedule_is_refused_naming_the_field_and_changes_nothing(
    world: TestClient, body: dict[str, Any], field: str
) -> None:
    before = ok(world.get(f"{BASE}/schedule", headers=AUTH)).json()
    answer = world.put(f"{BASE}/schedule", json=body, headers=AUTH)
    assert answer.status_code == 422, answer.text
    assert field in answer.text
    assert ok(world.get(f"{BASE}/schedule", headers=AUTH)).json() == before


def test_the_schedule_defaults_to_17_30_and_is_changed_by_admins(world: TestClient) -> None:
    default = ok(world.get(f"{BASE}/schedule", headers=AUTH)).json()
    assert (default["cron"], default["timezone"], default["enabled"]) == ("30 17 * * *", "UTC", True)
    assert default["next_at"].endswith(("17:30:00Z", "17:30:00+00:00"))
    made = ok(world.put(f"{BASE}/schedule", json={"cron": "30 17 * * *", "timezone": "Asia/Shanghai"}, headers=AUTH))
    assert made.json()["next_at"].endswith(("09:30:00Z", "09:30:00+00:00"))
    assert made.json()["changed_by"] == "admin"
    off = ok(world.put(f"{BASE}/schedule", json={"enabled": False}, headers=AUTH)).json()
    assert off["next_at"] is None


def test_only_admins_inspect(world: TestClient) -> None:
    owner = user(world, "olive", system="shop", role="owner")
    for method, path, body in (
        ("GET", BASE, None), ("POST", BASE, {}), ("GET", f"{BASE}/schedule", None),
        ("PUT", f"{BASE}/schedule", {"cron": "* * * * *"}), ("GET", f"{BASE}/1", None), ("GET", f"{BASE}/1/diff", None),
    ):  # fmt: skip
        answer = world.request(method, path, json=body, headers=owner)
        assert answer.status_code == 403, (method, path, answer.text)
    assert world.get(BASE).status_code == 401


def test_a_scheduled_slot_runs_once_whoever_looks(world: TestClient) -> None:
    platform: Platform = world.app.state.platform  # type: ignore[attr-defined]
    portal = world.portal  # type: ignore[attr-defined]
    ok(world.put(f"{BASE}/schedule", json={"cron": "30 17 * * *", "timezone": "UTC"}, headers=AUTH))
    due = dt.datetime.fromisoformat(ok(world.get(f"{BASE}/schedule", headers=AUTH)).json()["next_at"])
    assert portal.call(lambda: inspection.tick(platform, now=due - dt.timedelta(seconds=1))) is None
    ran = portal.call(lambda: inspection.tick(platform, now=due + dt.timedelta(seconds=5)))
    assert ran is not None
    assert (ran.trigger, ran.status) == ("schedule", "done")
    # a second server looking at the same moment finds the slot taken
    assert portal.call(lambda: inspection.tick(platform, now=due + dt.timedelta(seconds=6))) is None
    schedule = ok(world.get(f"{BASE}/schedule", headers=AUTH)).json()
    assert dt.datetime.fromisoformat(schedule["next_at"]) == due + dt.timedelta(days=1)
    assert [r["trigger"] for r in ok(world.get(BASE, headers=AUTH)).json()] == ["schedule"]
