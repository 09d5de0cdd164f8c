"""What the API refuses before any cluster is involved: no token, big bodies, wrong types, bad JSON."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dockyard import bootstrap
from dockyard.api.app import create_app
from dockyard.settings import Settings

TOKEN = "dy_" + "g" * 40
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'd.db'}", admin_token=TOKEN, executor=False)
    with TestClient(create_app(bootstrap.server(settings))) as c:
        yield c


def test_every_api_call_needs_a_valid_token(client: TestClient) -> None:
    for headers in ({}, {"Authorization": "Bearer dy_unknown"}, {"Authorization": "Basic YTpi"}):
        response = client.get("/api/v1/systems", headers=headers)
        assert response.status_code == 401
        assert response.json()["code"] == "unauthenticated"
    assert client.get("/api/v1/systems", headers=AUTH).json() == []


def test_a_big_body_is_refused_before_it_is_read(client: TestClient) -> None:
    response = client.post(
        "/api/v1/systems", content=b"x" * (17 * 1024 * 1024), headers={"Content-Type": "application/json"}
    )
    assert (response.status_code, response.json()["code"]) == (413, "too_large")


def test_a_body_of_unknown_length_is_refused_and_nothing_is_made(client: TestClient) -> None:
    chunked = iter([b'{"name": "shop"}'])  # a generator: sent chunked, without Content-Length
    response = client.post("/api/v1/systems", content=chunked, headers={**AUTH, "Content-Type": "application/json"})
    assert (response.status_code, response.json()["code"]) == (411, "length_required")
    assert response.headers["X-Request-ID"]  # answered inside the audit middleware
    assert client.get("/api/v1/systems", headers=AUTH).json() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "shop", "quota": {"cpu_millis": True}}, "quota.cpu_millis"),
        ({"name": "shop", "quota": {"cpu_millis": "1000"}}, "quota.cpu_millis"),
        ({"name": "shop", "owner": "mallory"}, "owner"),
        ({"name": "shop", "description": "nul\x00"}, "description"),
        ([], ""),
    ],
)
def test_wrong_types_unknown_fields_and_control_characters_are_422(
    client: TestClient, body: object, field: str
) -> None:
    response = client.post("/api/v1/systems", json=body, headers=AUTH)
    assert response.status_code == 422, response.text
    assert response.json()["details"]["field"] == field
    assert client.get("/api/v1/systems", headers=AUTH).json() == []


def test_invalid_json_is_422_and_says_so(client: TestClient) -> None:
    response = client.post("/api/v1/systems", content=b"{nope", headers={**AUTH, "Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["message"] == "the body is not valid JSON"


def test_tokens_are_made_once_listed_without_secret_and_revoked(client: TestClient) -> None:
    made = client.post("/api/v1/users/me/tokens", json={"name": "laptop", "expires_in_days": 7}, headers=AUTH).json()
    mine = {"Authorization": f"Bearer {made['token']}"}
    assert client.get("/api/v1/users/me", headers=mine).json() == {
        "name": "admin",
        "admin": True,
        "roles": {},
        "app_roles": [],
    }
    listed = client.get("/api/v1/users/me/tokens", headers=AUTH).json()
    assert {t["name"] for t in listed} == {"bootstrap", "laptop"}
    assert all("token" not in t for t in listed)
    assert client.delete(f"/api/v1/users/me/tokens/{made['id']}", headers=AUTH).status_code == 204
    assert client.get("/api/v1/users/me", headers=mine).status_code == 401
    assert client.post("/api/v1/users", json={"name": "me"}, headers=AUTH).json()["details"]["field"] == "name"


def test_the_generated_admin_token_is_private_and_works(tmp_path: Path) -> None:
    token_file = tmp_path / "state" / "admin-token"
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'd.db'}", admin_token_file=token_file, executor=False
    )
    with TestClient(create_app(bootstrap.server(settings))) as c:
        token = token_file.read_text().strip()
        assert os.stat(token_file).st_mode & 0o777 == 0o600
        assert c.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert [p.name for p in token_file.parent.iterdir()] == ["admin-token"]  # no temporary file left
    with TestClient(create_app(bootstrap.server(settings))):
        assert token_file.read_text().strip() == token  # a second start makes no new admin
