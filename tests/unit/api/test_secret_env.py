"""Secret env vars through the API: accepted in specs and changes, never in any answer or record."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dockyard import bootstrap
from dockyard.api.app import create_app
from dockyard.settings import Settings

TOKEN = "dy_" + "s" * 40
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PASSWORD = "correct-horse-battery-staple"
GROUP = "/api/v1/systems/shop/apps/web/groups/prod"
SPEC: dict[str, Any] = {
    "image": "registry.local/shop/web:1",
    "flavor": "small",
    "instances": 2,
    "env": {"MODE": "prod"},
    "secret_env": {"DB_PASSWORD": PASSWORD},
}


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    return tmp_path / "d.db"


@pytest.fixture
def client(db_file: Path) -> Iterator[TestClient]:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{db_file}", admin_token=TOKEN, executor=False)
    with TestClient(create_app(bootstrap.server(settings)), headers=AUTH) as c:
        assert c.put("/api/v1/clusters/here", json={"name": "here", "kubeconfig": "in-cluster"}).status_code == 201
        assert c.post("/api/v1/systems", json={"name": "shop"}).status_code == 201
        app = {"name": "web", "repository": "registry.local/shop/web"}
        assert c.post("/api/v1/systems/shop/apps", json=app).status_code == 201
        group = {"name": "prod", "environment": "prod", "cluster": "here"}
        assert c.post("/api/v1/systems/shop/apps/web/groups", json=group).status_code == 201
        yield c


def _everything_stored(db_file: Path) -> str:
    with sqlite3.connect(db_file) as conn:
        tables = [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return "\n".join(str(row) for t in tables for row in conn.execute(f'SELECT * FROM "{t}"'))  # noqa: S608


def test_secret_values_are_masked_in_every_answer_and_sealed_in_the_database(client: TestClient, db_file: Path) -> None:
    made = client.post(f"{GROUP}/versions", json={"spec": SPEC, "reason": "first"})
    assert made.status_code == 201, made.text
    mask = made.json()["spec"]["secret_env"]["DB_PASSWORD"]
    assert mask.startswith("<secret:")
    assert made.json()["spec"]["env"] == {"MODE": "prod"}

    scaled = client.post(f"{GROUP}/versions", json={"changes": {"instances": 3}})
    assert scaled.json()["spec"]["secret_env"] == {"DB_PASSWORD": mask}  # carried over, same value
    rotated = client.post(f"{GROUP}/versions", json={"changes": {"secret_env": {"DB_PASSWORD": "another"}}})
    assert rotated.json()["spec"]["secret_env"]["DB_PASSWORD"] not in (mask, "another")
    deploy = client.post(f"{GROUP}/deploy", json={"version": 3})
    assert deploy.status_code == 202, deploy.text

    answers = [
        made.text,
        scaled.text,
        rotated.text,
        deploy.text,
        client.get(f"{GROUP}/versions").text,
        client.get(f"{GROUP}/versions/1").text,
        client.get(f"{GROUP}/operations").text,
        client.get(f"{GROUP}").text,
        client.get("/api/v1/systems/shop/operations").text,
    ]
    diff = client.get(f"{GROUP}/diff", params={"old": 1, "new": 3}).json()
    assert diff["changes"] == [
        {"field": "instances", "expected": 2, "live": 3},
        {
            "field": "secret_env.DB_PASSWORD",
            "expected": mask,
            "live": rotated.json()["spec"]["secret_env"]["DB_PASSWORD"],
        },
    ]
    assert client.get(f"{GROUP}/diff", params={"old": 1, "new": 2}).json()["changes"] == [
        {"field": "instances", "expected": 2, "live": 3}
    ]
    for answer in answers:
        assert PASSWORD not in answer
        assert "another" not in answer
        assert "gAAAAA" not in answer  # no sealed token either
    stored = _everything_stored(db_file)
    assert PASSWORD not in stored
    assert "another" not in stored
    assert "gAAAAA" in stored  # the versions hold them sealed


@pytest.mark.parametrize(
    ("secret_env", "field"),
    [
        ({"MODE": PASSWORD}, "secret_env.MODE"),
        ({"DB_PASSWORD": 12345}, "secret_env.DB_PASSWORD"),
        ({"bad name": PASSWORD}, "secret_env.bad name"),
        ({"DB_PASSWORD": "<secret:0123456789ab>"}, "secret_env.DB_PASSWORD"),
    ],
)
def test_bad_secret_env_is_422_naming_the_variable_not_the_value(
    client: TestClient, db_file: Path, secret_env: dict[str, Any], field: str
) -> None:
    response = client.post(f"{GROUP}/versions", json={"spec": {**SPEC, "secret_env": secret_env}})
    assert response.status_code == 422, response.text
    assert response.json()["details"]["field"] == field
    assert PASSWORD not in response.text
    assert PASSWORD not in _everything_stored(db_file)
