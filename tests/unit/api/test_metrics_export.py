"""Dockyard's own /metrics: who may read it, and what it holds without a cluster (real SQLite)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dockyard import bootstrap
from dockyard.api.app import create_app
from dockyard.domain.live import PlacedInstance
from dockyard.settings import Settings
from tests.unit.records import pod_record

ADMIN = "dy_" + "a" * 40
SCRAPE = "dym_" + "s" * 40


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'd.db'}",
        admin_token=ADMIN,
        metrics_token=SCRAPE,
        executor=False,
    )
    with TestClient(create_app(bootstrap.server(settings))) as c:
        yield c


def _user_token(client: TestClient) -> str:
    admin = {"Authorization": f"Bearer {ADMIN}"}
    assert client.post("/api/v1/users", json={"name": "olga"}, headers=admin).status_code == 201
    made = client.post("/api/v1/users/olga/tokens", json={"name": "t"}, headers=admin)
    assert made.status_code == 201, made.text
    token: str = made.json()["token"]
    return token


def test_anonymous_and_unknown_tokens_get_401(client: TestClient) -> None:
    assert client.get("/metrics").status_code == 401
    answer = client.get("/metrics", headers={"Authorization": "Bearer dym_" + "x" * 40})
    assert answer.status_code == 401
    assert answer.json()["code"] == "unauthenticated"


def test_a_user_who_is_not_an_admin_gets_403(client: TestClient) -> None:
    answer = client.get("/metrics", headers={"Authorization": f"Bearer {_user_token(client)}"})
    assert answer.status_code == 403
    assert "needs a platform admin" in answer.json()["message"]


@pytest.mark.parametrize("token", [SCRAPE, ADMIN])
def test_the_scrape_token_and_admins_read_it(client: TestClient, token: str) -> None:
    client.get("/api/v1/systems/shop", headers={"Authorization": f"Bearer {ADMIN}"})
    answer = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = answer.text
    assert "# TYPE dockyard_instance_info gauge" in text
    assert 'dockyard_operations_unfinished{status="pending"} 0.0' in text
    # Latency by route template, never the raw path (names in URLs are not label values).
    assert 'route="/api/v1/systems/{system}",status="404"' in text
    assert "/api/v1/systems/shop" not in text


def test_the_scrape_token_is_generated_privately_when_unset(tmp_path: Path) -> None:
    settings = Settings(database_url="sqlite+aiosqlite:///x", metrics_token_file=tmp_path / "metrics-token")
    token = bootstrap.scrape_token(settings)
    assert token.startswith("dym_")
    assert len(token) > 40
    assert (tmp_path / "metrics-token").stat().st_mode & 0o777 == 0o600
    assert bootstrap.scrape_token(settings) == token  # kept, never replaced


def test_the_scrape_targets_are_behind_the_same_tokens_and_read_the_watch_caches(client: TestClient) -> None:
    assert client.get("/metrics/targets").status_code == 401
    user = client.get("/metrics/targets", headers={"Authorization": f"Bearer {_user_token(client)}"})
    assert user.status_code == 403
    scraper = {"Authorization": f"Bearer {SCRAPE}"}
    assert client.get("/metrics/targets", headers=scraper).json() == []  # no cluster watched
    platform = client.app.state.platform  # type: ignore[attr-defined]
    pods = [
        PlacedInstance("local", "", pod_record(name="a", container_id="containerd://1", metrics_port=9090)),
        PlacedInstance("local", "", pod_record(name="b", metrics_port=9090)),  # a KWOK instance: no container
    ]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(platform.live, "placed_instances", lambda: pods)
        answer = client.get("/metrics/targets", headers={"Authorization": f"Bearer {ADMIN}"})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == [
        {"targets": ["10.128.0.5:9090"], "labels": {"cluster": "local", "namespace": "shop", "pod": "a"}}
    ]
