"""Alert-rule overrides through the API: resolution, revisions, audit, the exported series, errors
and who may see or change them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.unit.api.alerting_world import AUTH, ok, user, world_client

S = "/api/v1/systems/shop"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[TestClient]:
    yield from world_client(tmp_path)


def _effective(client: TestClient, group: str, rule: str) -> dict[str, object]:
    body = ok(client.get(f"{S}/alert-rules", headers=AUTH)).json()
    (found,) = [e for e in body["effective"] if (e["group"], e["rule"]) == (group, rule)]
    return dict(found)


def _series(client: TestClient) -> list[str]:
    text = ok(client.get("/metrics", headers=AUTH)).text
    return [line for line in text.splitlines() if line.startswith("dockyard_alert_threshold{")]


def test_group_beats_application_beats_default(world: TestClient) -> None:
    assert _effective(world, "prod", "rss") == {
        "app": "web", "group": "prod", "rule": "rss", "threshold": 0.9, "enabled": True, "source": "default"
    }  # fmt: skip
    ok(world.put(f"{S}/apps/web/alert-rules/rss", json={"threshold": 0.8, "reason": "big heap"}, headers=AUTH))
    ok(world.put(f"{S}/apps/web/groups/prod/alert-rules/rss", json={"threshold": 0.5}, headers=AUTH))
    assert (_effective(world, "prod", "rss")["threshold"], _effective(world, "prod", "rss")["source"]) == (0.5, "group")
    assert (_effective(world, "canary", "rss")["threshold"], _effective(world, "canary", "rss")["source"]) == (
        0.8,
        "app",
    )
    # the other system keeps its defaults
    assert 'dockyard_alert_threshold{app="web",group="prod",rule="rss",system="other"} 0.9' in _series(world)
    assert 'dockyard_alert_threshold{app="web",group="prod",rule="rss",system="shop"} 0.5' in _series(world)
    assert 'dockyard_alert_threshold{app="web",group="canary",rule="rss",system="shop"} 0.8' in _series(world)
    # removing the group's override: it inherits the application's again
    ok(world.delete(f"{S}/apps/web/groups/prod/alert-rules/rss", params={"reason": "done"}, headers=AUTH))
    assert _effective(world, "prod", "rss")["threshold"] == 0.8


def test_a_disabled_rule_exports_no_threshold(world: TestClient) -> None:
    ok(world.put(f"{S}/apps/web/groups/canary/alert-rules/cpu", json={"enabled": False}, headers=AUTH))
    series = _series(world)
    assert not any('group="canary",rule="cpu",system="shop"' in s for s in series)
    assert any('app="web",group="prod",rule="cpu",system="shop"' in s for s in series)
    assert len(series) == 4 * 7 - 1  # two systems × two groups × seven rules, one disabled


def test_every_change_is_a_revision_with_who_and_why_and_is_audited(world: TestClient) -> None:
    owner = user(world, "olga", system="shop", role="owner")
    ok(world.put(f"{S}/apps/web/alert-rules/rss", json={"threshold": 0.8, "reason": "big heap"}, headers=owner))
    ok(world.put(f"{S}/apps/web/alert-rules/rss", json={"threshold": 0.85}, headers=owner))
    ok(world.delete(f"{S}/apps/web/alert-rules/rss", params={"reason": "back to normal"}, headers=AUTH))
    history = ok(world.get(f"{S}/alert-rules/history", headers=owner)).json()
    assert [(h["revision"], h["threshold"], h["cleared"], h["changed_by"], h["reason"]) for h in history] == [
        (3, None, True, "admin", "back to normal"),
        (2, 0.85, False, "olga", ""),
        (1, 0.8, False, "olga", "big heap"),
    ]
    trail = ok(world.get("/api/v1/audit", params={"system": "shop"}, headers=AUTH)).json()["items"]
    changes = [(t["actor"], t["action"], t["target"].get("rule"), t["changes"]) for t in trail if "rule" in t["target"]]
    assert [c[:3] for c in changes] == [
        ("admin", "clear_app_rule", "rss"),
        ("olga", "set_app_rule", "rss"),
        ("olga", "set_app_rule", "rss"),
    ]
    assert "0.85" in str(changes[1][3]), changes


def test_bad_input_names_the_field(world: TestClient) -> None:
    cases = [
        (f"{S}/apps/web/alert-rules/rss", {"threshold": 7000}, "threshold"),
        (f"{S}/apps/web/alert-rules/rss", {"threshold": "0.5"}, "threshold"),
        (f"{S}/apps/web/alert-rules/nope", {"threshold": 1}, "rule"),
        (f"{S}/apps/web/alert-rules/rss", {}, "threshold"),
        (f"{S}/apps/web/alert-rules/rss", {"threshold": 0.5, "reason": "x" * 1001}, "reason"),
    ]
    for path, body, field in cases:
        response = world.put(path, json=body, headers=AUTH)
        assert response.status_code == 422, (body, response.text)
        assert field in response.text, (body, response.text)
    assert world.put(f"{S}/apps/nope/alert-rules/rss", json={"threshold": 0.5}, headers=AUTH).status_code == 404
    missing_group = world.put(f"{S}/apps/web/groups/nope/alert-rules/rss", json={"threshold": 0.5}, headers=AUTH)
    assert missing_group.status_code == 404
    assert world.delete(f"{S}/apps/web/alert-rules/rss", headers=AUTH).status_code == 404  # no override to remove
    assert ok(world.get(f"{S}/alert-rules/history", headers=AUTH)).json() == []


def test_who_may_see_and_change(world: TestClient) -> None:
    viewer = user(world, "vera", system="shop", role="viewer")
    stranger = user(world, "sam", system="other", role="owner")
    assert world.get(f"{S}/alert-rules", headers=viewer).status_code == 200
    assert world.put(f"{S}/apps/web/alert-rules/rss", json={"threshold": 0.5}, headers=viewer).status_code == 403
    for call in (
        lambda h: world.get(f"{S}/alert-rules", headers=h),
        lambda h: world.get(f"{S}/alert-rules/history", headers=h),
        lambda h: world.put(f"{S}/apps/web/alert-rules/rss", json={"threshold": 0.5}, headers=h),
    ):
        assert call(stranger).status_code == 404
    assert world.get("/metrics", headers=stranger).status_code == 403
    assert world.get("/metrics").status_code == 401
