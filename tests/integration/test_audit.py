"""The audit trail on each database: what requests leave in it, filters, tampering found by verify
(through the API and the CLI), and concurrent appends that keep one chain."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sqlite3
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from dockyard import bootstrap
from dockyard.adapters.db.engine import make_engine
from dockyard.domain import audit
from dockyard.services import audit as svc
from dockyard.services.platform import Platform
from dockyard.settings import Settings
from tests.integration.harness.cli import run
from tests.integration.harness.servers import in_process, process_env, server_process, settings
from tests.integration.harness.tokens import ADMIN, ADMIN_TOKEN, user_with_token

pytestmark = pytest.mark.both_databases
SECRET = "hunter2-s3cr3t-value"


@dataclass
class Server:
    http: httpx.AsyncClient
    platform: Platform
    database_url: str

    async def trail(self, **params: Any) -> list[dict[str, Any]]:
        response = await self.http.get("/api/v1/audit", params=params)
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def verify(self) -> dict[str, Any]:
        response = await self.http.get("/api/v1/audit/verify")
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    async def sql(self, statements: str) -> None:
        """Change the database behind Dockyard's back, as someone with access to it could."""
        engine = make_engine(self.database_url)
        try:
            async with engine.begin() as conn:
                for statement in statements.split(";"):
                    await conn.execute(text(statement))
        finally:
            await engine.dispose()


@pytest.fixture
async def server(database_url: str, tmp_path: Path) -> AsyncIterator[Server]:
    """A server in-process without executor, its client as the admin from 192.0.2.7."""
    config = settings(database_url, tmp_path, executor=False)
    async with in_process(config, headers=ADMIN, client=("192.0.2.7", 40000)) as served:
        yield Server(served.http, served.platform, database_url)


async def test_mutations_and_denials_are_recorded_and_found_by_filters(server: Server) -> None:
    http = server.http
    before = dt.datetime.now(dt.UTC)
    assert (await http.post("/api/v1/systems", json={"name": "shop"})).status_code == 201
    app = {"name": "web", "repository": "registry.local/shop/web", "owners": [SECRET]}
    assert (await http.post("/api/v1/systems/shop/apps", json=app)).status_code == 201
    bob = await user_with_token(http, "bob")
    denied = await http.delete("/api/v1/systems/shop/apps/web", headers={**bob, "X-Request-ID": "bob-1"})
    assert denied.status_code == 404
    assert denied.headers["X-Request-ID"] == "bob-1"
    assert (await http.post("/api/v1/users", json={"name": "eve"}, headers=bob)).status_code == 403
    assert (await http.get("/api/v1/systems/shop/apps", headers=bob)).status_code == 404
    middle = (await server.trail())[0]["at"]
    assert (await http.post("/api/v1/systems", json={"name": "bank", "description": SECRET})).status_code == 201

    by_bob = await server.trail(user="bob")
    assert [(e["action"], e["outcome"], e["status"]) for e in by_bob] == [
        ("list_applications", "denied", 404),
        ("create_user", "denied", 403),
        ("delete_application", "denied", 404),
    ]
    deletion = by_bob[2]
    assert deletion["target"] == {"system": "shop", "app": "web"}
    assert (deletion["system"], deletion["request_id"], deletion["source_ip"]) == ("shop", "bob-1", "192.0.2.7")
    assert deletion["reason"] == "system 'shop' does not exist"

    made = (await server.trail(action="create_application"))[0]
    assert (made["actor"], made["method"], made["target"], made["outcome"]) == (
        "admin",
        "POST",
        {"system": "shop"},
        "allowed",
    )
    assert made["changes"] == {
        "fields": ["name", "repository", "owners"],
        "values": {"name": "web", "repository": "registry.local/shop/web"},
    }
    assert [e["action"] for e in await server.trail(system="shop")] == [
        "list_applications",
        "delete_application",
        "create_application",
        "create_system",
    ]
    assert [e["action"] for e in await server.trail(system="shop", outcome="allowed")] == [
        "create_application",
        "create_system",
    ]
    assert [e["system"] for e in await server.trail(since=middle)] == ["bank", "shop"]
    assert len(await server.trail(since=before.isoformat(), until=middle)) == 6
    assert await server.trail(until=before.isoformat()) == []
    everything = (await http.get("/api/v1/audit")).text
    assert SECRET not in everything
    assert ADMIN_TOKEN not in everything
    assert (await server.verify())["ok"] is True


@pytest.mark.parametrize(
    ("tampering", "seq", "reason"),
    [
        (
            "UPDATE audit_entries SET actor = 'mallory' WHERE seq = 3",
            3,
            "entry 3 does not match its hash: it was edited",
        ),
        (
            "UPDATE audit_entries SET outcome = 'denied', status = 403 WHERE seq = 5",
            5,
            "entry 5 does not match its hash: it was edited",
        ),
        ("DELETE FROM audit_entries WHERE seq = 2", 2, "entry 2 missing: the entry after 1 is 3"),
        ("DELETE FROM audit_entries WHERE seq = 6", 6, "entry 6 missing: the trail ends at 5 but its head is at 6"),
        (
            "UPDATE audit_entries SET seq = 100 WHERE seq = 3; UPDATE audit_entries SET seq = 3 WHERE seq = 4;"
            "UPDATE audit_entries SET seq = 4 WHERE seq = 100",
            3,
            "entry 3 does not match its hash: it was edited",
        ),
    ],
    ids=["edited", "outcome-changed", "middle-deleted", "last-deleted", "swapped"],
)
async def test_tampering_with_the_table_makes_verify_name_the_entry(
    server: Server, tampering: str, seq: int, reason: str
) -> None:
    for i in range(6):
        assert (await server.http.post("/api/v1/systems", json={"name": f"s{i}"})).status_code == 201
    assert (await server.verify()) == {
        "ok": True,
        "checked": 6,
        "first_bad": None,
        "head": {"seq": 6, "hash": (await server.trail())[0]["hash"]},
    }
    await server.sql(tampering)
    result = await server.verify()
    assert result["ok"] is False
    assert result["first_bad"] == {"seq": seq, "reason": reason}
    # The trail still takes entries (a denied verify here) and still names the same entry.
    assert (await server.http.get("/api/v1/audit/verify", headers={"Authorization": "Bearer nope"})).status_code == 401
    assert (await server.verify())["first_bad"]["seq"] == seq


async def test_concurrent_appends_from_two_processes_keep_one_chain(server: Server, tmp_path: Path) -> None:
    settings = Settings(database_url=server.database_url, admin_token_file=tmp_path / "other-token")
    other = await bootstrap.start(settings)  # a second server on the same database
    try:

        def record(n: int) -> audit.AuditRecord:
            return audit.new_record(
                at=dt.datetime.now(dt.UTC),
                actor=f"user{n}",
                source_ip="10.0.0.1",
                request_id=f"r-{n}",
                method="POST",
                action="create_group",
                target={"system": "shop"},
                outcome="allowed",
                status=201,
                reason="",
                changes={"fields": ["name"], "values": {"name": f"g{n}"}},
            )

        appends = asyncio.gather(*(svc.record(server.platform if n % 2 else other, record(n)) for n in range(40)))
        requests = asyncio.gather(*(server.http.post("/api/v1/systems", json={"name": f"s{n}"}) for n in range(10)))
        await asyncio.gather(appends, requests)
    finally:
        await other.stop()
    assert all(r.status_code == 201 for r in requests.result())
    result = await server.verify()
    assert (result["ok"], result["checked"], result["head"]["seq"]) == (True, 50, 50)
    trail = await server.trail(limit=500)
    assert [e["seq"] for e in trail] == list(range(50, 0, -1))
    assert {e["actor"] for e in trail} == {f"user{n}" for n in range(40)} | {"admin"}


@pytest.fixture
def cli_server(tmp_path: Path) -> Iterator[tuple[dict[str, str], Path]]:
    """A server process on a fresh SQLite database (the CLI reads the table with sqlite3), and the
    environment of a CLI user holding its admin token."""
    db = tmp_path / "dockyard.db"
    env = process_env(f"sqlite+aiosqlite:///{db}", tmp_path / "state", DOCKYARD_EXECUTOR="false")
    with server_process(env, tmp_path / "server.log") as server:
        yield (
            {
                "DOCKYARD_SERVER": server.url,
                "DOCKYARD_TOKEN": ADMIN_TOKEN,
                "DOCKYARD_CLI_CONFIG": str(tmp_path / "cli.yaml"),
                "HOME": str(tmp_path),
            },
            db,
        )
    assert SECRET not in (tmp_path / "server.log").read_text()


def test_the_cli_lists_the_trail_and_verify_names_a_tampered_row(cli_server: tuple[dict[str, str], Path]) -> None:
    env, db = cli_server
    run(env, "system", "create", "shop", "--description", SECRET)
    run(env, "app", "create", "shop/web", "--repository", "registry.local/shop/web")
    failed = run(env, "app", "create", "nope/web", "--repository", "r", ok=False)
    assert failed.returncode == 1

    listed = json.loads(run(env, "audit", "list", "-o", "json").stdout)
    assert [(e["seq"], e["action"], e["outcome"], e["source_ip"]) for e in listed["items"]] == [
        (3, "create_application", "error", "127.0.0.1"),
        (2, "create_application", "allowed", "127.0.0.1"),
        (1, "create_system", "allowed", "127.0.0.1"),
    ]
    table = run(env, "audit", "list", "--system", "shop", "--since", "1h").stdout
    assert "create_system" in table
    assert "repository=registry.local/shop/web" in table
    assert SECRET not in table
    filtered = json.loads(run(env, "audit", "list", "--action", "create_system", "-o", "json").stdout)
    assert [e["seq"] for e in filtered["items"]] == [1]
    intact = run(env, "audit", "verify")
    assert intact.stdout.startswith("the audit trail is intact: 3 entries; head 3 ")

    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE audit_entries SET actor = 'someone-else' WHERE seq = 2")
    broken = run(env, "audit", "verify", ok=False)
    assert broken.returncode == 1
    assert (
        broken.stderr == "error: the audit trail is broken at entry 2: entry 2 does not match its hash: it was edited\n"
    )
    as_json = run(env, "audit", "verify", "-o", "json", ok=False)
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout)["first_bad"]["seq"] == 2
