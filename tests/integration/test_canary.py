"""A canary secret through every flow, at DEBUG log level: a unique marker in an admin token, a user's
password, a secret env var and a kubeconfig's token. Afterwards the logs, the audit trail, the
operation records, every API answer (errors included) and every database table (read raw) hold neither
the marker nor its base64 — in any alignment."""

from __future__ import annotations

import base64
import logging
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import text

from dockyard.adapters.db.engine import make_engine
from dockyard.adapters.kube.client import KubeCluster
from tests.integration.harness.sandboxes import Sandbox
from tests.integration.harness.servers import in_process, settings
from tests.integration.harness.waiting import Not, eventually

pytestmark = pytest.mark.both_databases  # every table of each database, read raw
MARKER = "canary" + uuid.uuid4().hex  # letters and digits: survives every encoding unchanged
TOKEN = "dy_" + MARKER + "t" * 8


def forms(secret: str) -> set[str]:
    """The secret and its base64 at each of the three alignments it can take inside a longer text."""
    found = {secret}
    for pad in ("", "x", "xx"):
        encoded = base64.b64encode((pad + secret).encode()).decode()
        # Drop the characters that depend on the padding and the end: the middle always appears.
        found.add(encoded[4 if pad else 0 : -4])
    return found


async def _tables(database_url: str) -> dict[str, list[str]]:
    """Every row of every table, as text, read past Dockyard's repositories."""
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            names = await conn.run_sync(lambda sync: sync.dialect.get_table_names(sync))
            tables: dict[str, list[str]] = {}
            for name in names:
                rows = await conn.execute(text(f'SELECT * FROM "{name}"'))  # noqa: S608 - names from the schema
                tables[name] = [repr(tuple(row)) for row in rows]
            return tables
    finally:
        await engine.dispose()


async def test_a_canary_secret_leaks_nowhere(
    sandbox: Sandbox, database_url: str, kube: KubeCluster, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    answers: list[str] = []
    system = f"canary-{uuid.uuid4().hex[:6]}"
    async with in_process(settings(database_url, tmp_path, admin_token=TOKEN)) as server:
        http = server.http

        async def call(method: str, path: str, body: Any = None, token: str = TOKEN) -> httpx.Response:
            response = await http.request(method, path, json=body, headers={"Authorization": f"Bearer {token}"})
            answers.append(f"{method} {path} {response.status_code} {response.headers} {response.text}")
            return response

        # A kubeconfig with the marker as a bearer token, for a cluster that does not answer.
        kubeconfig = yaml.safe_load(sandbox.kubeconfig.read_text())
        kubeconfig["users"][0]["user"] = {"token": MARKER}
        kubeconfig["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:1"
        far = {"name": "far", "kubeconfig": yaml.safe_dump(kubeconfig), "labels": {}}
        assert (await call("PUT", "/api/v1/clusters/far", far)).status_code == 201
        local = {"name": "local", "kubeconfig": sandbox.kubeconfig.read_text(), "labels": {}}
        assert (await call("PUT", "/api/v1/clusters/local", local)).status_code == 201
        broken = {"name": "bad", "kubeconfig": "apiVersion: v1\nusers: [{token: " + MARKER + "}]\n{", "labels": {}}
        assert (await call("PUT", "/api/v1/clusters/bad", broken)).status_code == 422

        # A password: weak, right, wrong, changed.
        password = f"pw-{MARKER}"
        assert (
            await call("POST", "/api/v1/users", {"name": "olga", "password": "x" * 250 + MARKER})
        ).status_code == 422
        assert (await call("POST", "/api/v1/users", {"name": "olga", "password": password})).status_code == 201
        session = await call("POST", "/api/v1/login", {"user": "olga", "password": password})
        assert session.status_code == 200
        assert (await call("POST", "/api/v1/login", {"user": "olga", "password": MARKER})).status_code == 401
        change = {"current_password": password, "new_password": f"new-{MARKER}"}
        access = session.json()["access_token"]
        assert (await call("PUT", "/api/v1/users/me/password", change, token=access)).status_code == 204
        assert (await call("GET", "/api/v1/users/me", token=TOKEN + "x")).status_code == 401

        # A secret env var, deployed to the sandbox, with a bad one beside it.
        base = f"/api/v1/systems/{system}"
        assert (await call("POST", "/api/v1/systems", {"name": system})).status_code == 201
        app_body = {"name": "web", "repository": "registry.local/web"}
        assert (await call("POST", f"{base}/apps", app_body)).status_code == 201
        group_body = {"name": "prod", "environment": "prod", "cluster": "local"}
        assert (await call("POST", f"{base}/apps/web/groups", group_body)).status_code == 201
        group = f"{base}/apps/web/groups/prod"
        spec = {"image": "registry.local/web:1", "flavor": "tiny", "instances": 1, "secret_env": {"KEY": MARKER}}
        bad = {**spec, "secret_env": {"not a name": MARKER}}
        assert (await call("POST", f"{group}/versions", {"spec": bad})).status_code == 422
        masked = {**spec, "secret_env": {"KEY": "<secret:abc>"}}
        assert (await call("POST", f"{group}/versions", {"spec": masked})).status_code == 422
        deploy = await call("POST", f"{group}/deploy", {"spec": spec})
        assert deploy.status_code == 202

        async def ended() -> bool | Not:
            got = (await call("GET", f"/api/v1/operations/{deploy.json()['id']}")).json()
            return got["status"] in ("succeeded", "failed") or Not(got)

        await eventually(ended, "the deploy to end", timeout=120)
        # The secret does reach where it must: the cluster's Secret (base64, as Kubernetes keeps it).
        secret = await kube.get("v1", "Secret", "web-prod-v1", namespace=system)
        assert base64.b64decode(secret["data"]["KEY"]).decode() == MARKER
        assert (await call("POST", f"{group}/deploy", {"changes": {"instances": 2}})).status_code == 202
        for path in ("/versions", "/versions/1", "/operations", "/instances", "/diff?old=1&new=2", ""):
            await call("GET", f"{group}{path}")
        await call("GET", "/api/v1/audit?limit=500")
        await call("GET", "/api/v1/clusters")
    await kube.delete("v1", "Namespace", system)

    logs = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert len(caplog.records) > 50  # DEBUG really was on
    tables = await _tables(database_url)
    assert {"audit_entries", "operations", "versions", "clusters", "users"} <= tables.keys()
    places = {"logs": logs, "answers": "\n".join(answers)} | {f"table {k}": "\n".join(v) for k, v in tables.items()}
    leaks = [f"{where}: {form!r}" for where, content in places.items() for form in forms(MARKER) if form in content]
    assert leaks == []
