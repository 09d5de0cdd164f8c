"""The audit middleware and /api/v1/audit on a SQLite file: what each kind of request leaves in the trail."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dockyard import bootstrap
from dockyard.api.app import create_app
from dockyard.domain.access import Principal
from dockyard.domain.audit import AuditQuery
from dockyard.domain.errors import Forbidden, Hidden, Unavailable
from dockyard.services import applications, audit
from dockyard.settings import Settings

TOKEN = "dy_" + "a" * 40
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SECRET = "hunter2-s3cr3t-value"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'd.db'}",
        admin_token=TOKEN,
        admin_token_file=tmp_path / "admin-token",
        executor=False,
    )
    with TestClient(create_app(bootstrap.server(settings)), raise_server_exceptions=False) as c:
        yield c


def _user(client: TestClient, name: str) -> dict[str, str]:
    assert client.post("/api/v1/users", json={"name": name}, headers=AUTH).status_code == 201
    made = client.post(f"/api/v1/users/{name}/tokens", json={"name": "t"}, headers=AUTH)
    assert made.status_code == 201
    return {"Authorization": f"Bearer {made.json()['token']}"}


def _trail(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/api/v1/audit", params=params, headers=AUTH)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_a_mutation_is_recorded_with_actor_target_and_changes(client: TestClient) -> None:
    response = client.post(
        "/api/v1/systems",
        json={"name": "shop", "description": SECRET, "quota": {"cpu_millis": 1000}},
        headers={**AUTH, "X-Request-ID": "req-42"},
    )
    assert response.status_code == 201
    assert response.headers["X-Request-ID"] == "req-42"
    app = {"name": "web", "repository": "registry.local/shop/web", "owners": [SECRET]}
    assert client.post("/api/v1/systems/shop/apps", json=app, headers=AUTH).status_code == 201

    made, created = _trail(client)
    assert created["seq"] == 1
    assert (created["actor"], created["method"], created["action"]) == ("admin", "POST", "create_system")
    assert (created["system"], created["outcome"], created["status"], created["reason"]) == ("shop", "allowed", 201, "")
    assert created["request_id"] == "req-42"
    assert created["source_ip"] == "testclient"
    assert created["changes"] == {
        "fields": ["name", "description", "quota.cpu_millis"],
        "values": {"name": "shop", "quota.cpu_millis": 1000},
    }
    assert made["action"] == "create_application"
    assert made["target"] == {"system": "shop"}
    assert made["changes"]["values"] == {"name": "web", "repository": "registry.local/shop/web"}
    assert made["prev_hash"] == created["hash"]
    assert SECRET not in client.get("/api/v1/audit", headers=AUTH).text


def test_reads_are_not_recorded_and_every_response_has_a_request_id(client: TestClient) -> None:
    for path in ("/api/v1/systems", "/api/v1/audit", "/api/v1/audit/verify", "/healthz"):
        response = client.get(path, headers={**AUTH, "X-Request-ID": "bad id!"})
        assert response.status_code == 200
        assert len(response.headers["X-Request-ID"]) == 32  # made anew: the client's was not sane
    assert _trail(client) == []


def test_unauthenticated_and_unauthorized_requests_are_recorded_as_denied(client: TestClient) -> None:
    assert client.post("/api/v1/systems", json={"name": "shop"}, headers=AUTH).status_code == 201
    bob = _user(client, "bob")
    assert client.get("/api/v1/systems").status_code == 401
    assert client.get("/api/v1/systems/shop", headers=bob).status_code == 404
    assert (
        client.post("/api/v1/systems/shop/apps", json={"name": "x", "repository": "r"}, headers=bob).status_code == 404
    )
    assert client.post("/api/v1/users", json={"name": "eve", "admin": True}, headers=bob).status_code == 403
    assert client.get("/api/v1/audit", headers=bob).status_code == 403
    assert client.get("/api/v1/systems/shop", headers=AUTH).status_code == 200  # an admin's read: not recorded

    denied = _trail(client, outcome="denied")
    assert [(e["actor"], e["method"], e["action"], e["status"]) for e in denied] == [
        ("bob", "GET", "list_audit", 403),
        ("bob", "POST", "create_user", 403),
        ("bob", "POST", "create_application", 404),
        ("bob", "GET", "get_system", 404),
        ("", "GET", "list_systems", 401),
    ]
    assert denied[1]["changes"] == {"fields": ["name", "admin"], "values": {"name": "eve", "admin": True}}
    assert denied[1]["reason"] == "creating users needs a platform admin"
    assert denied[3]["reason"] == "system 'shop' does not exist"
    assert denied[3]["system"] == "shop"
    assert denied[4]["reason"].startswith("a valid token is required")
    assert [e["action"] for e in _trail(client, user="bob")] == [e["action"] for e in denied[:4]]


def test_failed_requests_are_recorded_as_errors_with_their_reason(client: TestClient) -> None:
    assert client.post("/api/v1/systems", json={"name": "shop", "password": SECRET}, headers=AUTH).status_code == 422
    assert (
        client.post(
            "/api/v1/systems", content=b"{nope", headers={**AUTH, "Content-Type": "application/json"}
        ).status_code
        == 422
    )
    assert client.delete("/api/v1/systems/nope", headers=AUTH).status_code == 404
    assert client.post("/api/v1/nowhere", json={}, headers=AUTH).status_code == 404
    big = client.post("/api/v1/systems", content=b"x" * (17 * 1024 * 1024), headers=AUTH)
    assert big.status_code == 413

    too_big, nowhere, missing, not_json, unknown = _trail(client)
    assert (unknown["outcome"], unknown["status"], unknown["reason"]) == (
        "error",
        422,
        "password: Extra inputs are not permitted",
    )
    assert unknown["changes"] == {"fields": ["name", "password"], "values": {"name": "shop"}}
    assert (not_json["reason"], not_json["changes"]) == (
        "the body is not valid JSON",
        {"fields": [], "values": {}, "unreadable": True},
    )
    assert (missing["action"], missing["outcome"], missing["target"]) == ("delete_system", "error", {"system": "nope"})
    assert (nowhere["action"], nowhere["reason"]) == ("/api/v1/nowhere", "Not Found")
    assert (too_big["status"], too_big["changes"]) == (413, {})  # refused before it was read
    assert SECRET not in client.get("/api/v1/audit", headers=AUTH).text


def test_an_internal_error_is_recorded_and_answered_with_the_request_id(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError(SECRET)

    monkeypatch.setattr(applications, "create_system", broken)
    response = client.post("/api/v1/systems", json={"name": "shop"}, headers={**AUTH, "X-Request-ID": "boom-1"})
    assert (response.status_code, response.headers["X-Request-ID"]) == (500, "boom-1")
    (entry,) = _trail(client)
    assert (entry["outcome"], entry["status"], entry["request_id"]) == ("error", 500, "boom-1")
    assert entry["reason"] == "internal error (RuntimeError)"


def test_a_failed_audit_write_is_logged_and_the_response_stands(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def unavailable(*_args: Any, **_kwargs: Any) -> None:
        raise Unavailable("OperationalError while talking to the database")

    monkeypatch.setattr(audit, "record", unavailable)
    with caplog.at_level(logging.ERROR, logger="dockyard.api.audit"):
        response = client.post("/api/v1/users", json={"name": "bob"}, headers={**AUTH, "X-Request-ID": "w-1"})
        made = client.post("/api/v1/users/bob/tokens", json={"name": SECRET}, headers=AUTH)
    assert response.status_code == 201
    assert made.status_code == 201
    assert "could not record the audit entry of request w-1 (POST create_user, status 201)" in caplog.text
    assert SECRET not in caplog.text
    assert made.json()["token"] not in caplog.text
    monkeypatch.undo()
    assert _trail(client) == []


def test_tokens_made_or_sent_never_reach_the_trail(client: TestClient) -> None:
    made = client.post("/api/v1/users/me/tokens", json={"name": "laptop"}, headers=AUTH).json()
    assert client.delete(f"/api/v1/users/me/tokens/{made['id']}", headers=AUTH).status_code == 204
    assert (
        client.post(
            "/api/v1/systems", json={"name": "x"}, headers={"Authorization": f"Bearer {made['token']}"}
        ).status_code
        == 401
    )
    text = client.get("/api/v1/audit", headers=AUTH).text
    assert made["token"] not in text
    assert TOKEN not in text
    assert [e["action"] for e in _trail(client)] == ["create_system", "revoke_token", "create_token"]


def test_the_trail_is_paged_newest_first_and_filtered(client: TestClient) -> None:
    for i in range(5):
        assert client.post("/api/v1/systems", json={"name": f"s{i}"}, headers=AUTH).status_code == 201
    first = client.get("/api/v1/audit", params={"limit": 2}, headers=AUTH).json()
    assert [e["seq"] for e in first["items"]] == [5, 4]
    second = client.get("/api/v1/audit", params={"limit": 2, "cursor": first["next_cursor"]}, headers=AUTH).json()
    assert [e["seq"] for e in second["items"]] == [3, 2]
    last = client.get("/api/v1/audit", params={"limit": 2, "cursor": second["next_cursor"]}, headers=AUTH).json()
    assert ([e["seq"] for e in last["items"]], last["next_cursor"]) == ([1], None)
    assert [e["system"] for e in _trail(client, system="s3")] == ["s3"]
    assert _trail(client, action="delete_system") == []
    assert len(_trail(client, action="create_system", outcome="allowed")) == 5
    at = _trail(client)[2]["at"]
    assert [e["seq"] for e in _trail(client, since=at)] == [5, 4, 3]
    assert [e["seq"] for e in _trail(client, until=at)] == [2, 1]
    for params, field in (
        ({"limit": 501}, "limit"),
        ({"since": "yesterday"}, "since"),
        ({"outcome": "maybe"}, "outcome"),
    ):
        response = client.get("/api/v1/audit", params=params, headers=AUTH)
        assert (response.status_code, response.json()["details"]["field"]) == (422, field)
    bad = client.get("/api/v1/audit", params={"since": at, "until": at}, headers=AUTH)
    assert (bad.status_code, bad.json()["details"]["field"]) == (422, "until")


def test_verify_is_for_admins(client: TestClient) -> None:
    bob = _user(client, "bob")
    assert client.get("/api/v1/audit/verify", headers=bob).status_code == 403
    result = client.get("/api/v1/audit/verify", headers=AUTH).json()
    assert result["ok"] is True
    assert result["first_bad"] is None
    assert result["checked"] == result["head"]["seq"] == 3  # two for bob, one for the denied verify


def test_a_systems_owners_read_its_entries_and_nothing_else(client: TestClient) -> None:
    for name in ("shop", "bank"):
        assert client.post("/api/v1/systems", json={"name": name}, headers=AUTH).status_code == 201
    assert client.delete("/api/v1/systems/bank", headers=AUTH).status_code == 204
    platform = client.app.state.platform
    portal = client.portal
    assert portal is not None
    owner = Principal("olga", roles={"shop": "owner", "bank": "viewer"})
    found = portal.call(audit.find, platform, owner, AuditQuery(system="shop"))
    assert [(e.record.action, e.record.system) for e in found] == [("create_system", "shop")]
    with pytest.raises(Forbidden, match="needs a platform admin"):
        portal.call(audit.find, platform, owner, AuditQuery())
    with pytest.raises(Forbidden):
        portal.call(audit.find, platform, owner, AuditQuery(system="bank"))
    with pytest.raises(Hidden):
        portal.call(audit.find, platform, owner, AuditQuery(system="other"))
    with pytest.raises(Forbidden):
        portal.call(audit.verify, platform, owner)
