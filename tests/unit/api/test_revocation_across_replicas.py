"""Two servers on one database, each caching who holds which token and the groups it read: a
revocation, a role taken away, a binding dropped with its application, a group changed, done through
one, is seen by the other on the next request; and a cached caller costs one primary-key read, not the
joined token-and-roles read (a group's instances: two, not two units of work of three queries)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from dockyard import bootstrap
from dockyard.api.app import create_app
from dockyard.domain.access import Principal
from dockyard.services.generations import GenerationCache
from dockyard.settings import Settings

TOKEN = "dy_" + "r" * 40
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def replicas(tmp_path: Path) -> Iterator[tuple[TestClient, TestClient]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'd.db'}"
    one = Settings(database_url=url, admin_token=TOKEN, executor=False, secret_key_file=tmp_path / "key")
    with TestClient(create_app(bootstrap.server(one))) as a, TestClient(create_app(bootstrap.server(one))) as b:
        yield a, b


def _token(client: TestClient, user: str) -> dict[str, str]:
    made = client.post(f"/api/v1/users/{user}/tokens", json={"name": "t"}, headers=ADMIN).json()
    return {"Authorization": f"Bearer {made['token']}", "id": made["id"]}


def _auth(headers: dict[str, str]) -> dict[str, str]:
    return {"Authorization": headers["Authorization"]}


def test_a_token_revoked_on_one_replica_is_refused_by_the_other_at_once(
    replicas: tuple[TestClient, TestClient],
) -> None:
    a, b = replicas
    mine = _token(a, "admin")
    assert b.get("/api/v1/users/me", headers=_auth(mine)).status_code == 200  # b has it cached now
    assert b.get("/api/v1/users/me", headers=_auth(mine)).status_code == 200
    assert a.delete(f"/api/v1/users/me/tokens/{mine['id']}", headers=_auth(mine)).status_code == 204
    assert b.get("/api/v1/users/me", headers=_auth(mine)).status_code == 401
    assert a.get("/api/v1/users/me", headers=_auth(mine)).status_code == 401


def test_roles_taken_away_on_one_replica_are_gone_on_the_other(replicas: tuple[TestClient, TestClient]) -> None:
    a, b = replicas
    a.post("/api/v1/users", json={"name": "olga"}, headers=ADMIN)
    a.post("/api/v1/systems", json={"name": "shop"}, headers=ADMIN)
    a.post("/api/v1/systems/shop/apps", json={"name": "web", "repository": "r/web"}, headers=ADMIN)
    olga = _auth(_token(a, "olga"))
    a.put("/api/v1/systems/shop/members/olga", json={"role": "viewer"}, headers=ADMIN)
    assert b.get("/api/v1/systems/shop", headers=olga).status_code == 200
    assert a.delete("/api/v1/systems/shop/members/olga", headers=ADMIN).status_code == 204
    assert b.get("/api/v1/systems/shop", headers=olga).status_code == 404

    # A binding that goes with its application (a cascade in the database) is gone as well.
    a.put("/api/v1/systems/shop/apps/web/members/olga", json={"role": "developer"}, headers=ADMIN)
    assert b.get("/api/v1/systems/shop/apps/web", headers=olga).status_code == 200
    assert a.delete("/api/v1/systems/shop/apps/web", headers=ADMIN).status_code == 204
    a.post("/api/v1/systems/shop/apps", json={"name": "web", "repository": "r/web"}, headers=ADMIN)
    assert b.get("/api/v1/systems/shop/apps/web", headers=olga).status_code == 404


def test_a_cached_caller_costs_one_primary_key_read(replicas: tuple[TestClient, TestClient]) -> None:
    a, _ = replicas
    statements: list[str] = []
    engine = a.app.state.platform.db._engine.sync_engine  # type: ignore[attr-defined]

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    a.get("/api/v1/users/me", headers=ADMIN)  # loads and caches the admin
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert a.get("/api/v1/users/me", headers=ADMIN).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(statements) == 1
    assert "FROM generations" in statements[0]


def test_the_cache_keeps_entries_of_one_generation_until_their_token_expires() -> None:
    clock = [0.0]
    cache: GenerationCache[Principal] = GenerationCache(ttl=30, clock=lambda: clock[0])
    now = dt.datetime(2026, 12, 2, tzinfo=dt.UTC)
    someone = Principal(name="olga", admin=False, roles={}, app_roles={})
    assert cache.get("k", generation=7, now=now) is None
    cache.put("k", someone, generation=7, until=now + dt.timedelta(minutes=1))
    cache.put("stale", someone, generation=6, until=None)  # loaded under an older generation
    assert cache.get("k", generation=7, now=now) == someone
    assert cache.get("stale", generation=7, now=now) is None
    assert cache.get("k", generation=7, now=now + dt.timedelta(minutes=1)) is None  # the token expired
    cache.put("k", someone, generation=7, until=None)
    clock[0] = 31.0
    assert cache.get("k", generation=7, now=now) is None  # older than the ttl
    cache.put("k", someone, generation=7, until=None)
    assert cache.get("k", generation=8, now=now) is None  # identity changed: everything goes
    assert cache.get("k", generation=8, now=now) is None


def test_a_groups_instances_cost_two_primary_key_reads_and_see_a_change_at_once(
    replicas: tuple[TestClient, TestClient],
) -> None:
    a, b = replicas
    a.put("/api/v1/clusters/here", json={"name": "here", "kubeconfig": "in-cluster", "labels": {}}, headers=ADMIN)
    a.post("/api/v1/systems", json={"name": "shop"}, headers=ADMIN)
    a.post("/api/v1/systems/shop/apps", json={"name": "web", "repository": "r/web"}, headers=ADMIN)
    group = {"name": "prod", "environment": "prod", "cluster": "here"}
    a.post("/api/v1/systems/shop/apps/web/groups", json=group, headers=ADMIN)
    instances = "/api/v1/systems/shop/apps/web/groups/prod/instances"
    assert b.get(instances, headers=ADMIN).json()["items"] == []
    engine = b.app.state.platform.db._engine.sync_engine  # type: ignore[attr-defined]
    assert _statements(engine, lambda: b.get(instances, headers=ADMIN)) == ["generations", "generations"]

    # A new version moves the group's record on (through the other replica): it is read again.
    version = {"spec": {"image": "r/web:1", "flavor": "tiny", "instances": 1}}
    assert a.post("/api/v1/systems/shop/apps/web/groups/prod/versions", json=version, headers=ADMIN).status_code == 201
    assert "groups" in _statements(engine, lambda: b.get(instances, headers=ADMIN))
    assert _statements(engine, lambda: b.get(instances, headers=ADMIN)) == ["generations", "generations"]


def _statements(engine: Any, call: Callable[[], Any]) -> list[str]:
    """The first table named (after FROM) by each statement ``call`` sends."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        found = re.search(r"\bFROM\s+\"?(\w+)", statement)
        statements.append(found[1] if found else statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        assert call().status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return statements
