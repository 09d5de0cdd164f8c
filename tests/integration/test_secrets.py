"""Secrets at rest end to end: the server app in-process, the real sandbox, each database read raw.

A cluster is registered with its kubeconfig's content and the database holds it only sealed; a version
with a secret env var runs with the value from a per-version Secret, while no answer, operation
record or stored spec holds the value.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import text

from dockyard.adapters.db.engine import make_engine
from dockyard.adapters.kube.client import KubeCluster
from dockyard.services.platform import Platform
from tests.integration.harness.client import Api, create_group, register_cluster
from tests.integration.harness.sandboxes import Sandbox
from tests.integration.harness.servers import in_process, settings
from tests.integration.harness.tokens import ADMIN
from tests.integration.harness.waiting import eventually

PASSWORD = "s3cr3t-" + uuid.uuid4().hex
SPEC: dict[str, Any] = {
    "image": "registry.local/shop/web:1",
    "flavor": "tiny",
    "instances": 2,
    "env": {"MODE": "prod"},
    "secret_env": {"DB_PASSWORD": PASSWORD},
}


async def _raw(database_url: str, sql: str) -> list[tuple[Any, ...]]:
    """Rows as the database holds them, read past Dockyard's repositories."""
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            return [tuple(row) for row in await conn.execute(text(sql))]
    finally:
        await engine.dispose()


@pytest.fixture
async def api(database_url: str, kube: KubeCluster, tmp_path: Path) -> AsyncIterator[Api]:
    """A server in-process with nothing registered yet: the tests register cluster ``local`` themselves."""
    system = f"vault-{uuid.uuid4().hex[:8]}"
    async with in_process(settings(database_url, tmp_path), headers=ADMIN) as server:
        yield Api(server.http, server.platform, system)
    await kube.delete("v1", "Namespace", system)


async def _register_and_create_group(api: Api, sandbox: Sandbox) -> None:
    await register_cluster(api.http, sandbox, labels={"idc": "local"})
    await create_group(api.http, api.system)


@pytest.mark.both_databases  # what the database holds, read raw
async def test_a_cluster_registered_by_content_is_stored_sealed(api: Api, sandbox: Sandbox, database_url: str) -> None:
    await _register_and_create_group(api, sandbox)
    kubeconfig = yaml.safe_load(sandbox.kubeconfig.read_text())
    client_key = kubeconfig["users"][0]["user"]["client-key-data"]
    server = kubeconfig["clusters"][0]["cluster"]["server"]

    [(stored, form)] = await _raw(database_url, "SELECT kubeconfig, kubeconfig_form FROM clusters")
    assert form == "sealed"
    for clear in (client_key, base64.b64decode(client_key).decode(), server, "client-key-data", "BEGIN"):
        assert clear not in stored
    platform: Platform = api.platform
    assert client_key in platform.box.open(stored)

    for path in ("/api/v1/clusters", "/api/v1/clusters/local", "/readyz"):
        answer = (await api.http.get(path)).text
        assert client_key not in answer
        assert "kubeconfig" not in answer

    async def connected() -> bool:
        return bool((await api.http.get("/api/v1/clusters/local")).json()["connected"])

    await eventually(connected, "the watches to connect with the sealed kubeconfig", timeout=30)
    ready = (await api.http.get("/readyz")).json()
    assert ready["clusters"]["local"]["ok"] is True
    assert ready["database"] == {"ok": True, "detail": database_url.split("+", 1)[0]}  # sqlite or postgresql


async def test_a_secret_env_var_runs_from_a_secret_and_is_kept_nowhere_in_clear(
    api: Api, sandbox: Sandbox, database_url: str, kube: KubeCluster
) -> None:
    await _register_and_create_group(api, sandbox)
    accepted = await api.http.post(f"{api.group}/deploy", json={"spec": SPEC, "reason": "with a secret"})
    assert accepted.status_code == 202, accepted.text
    done = await api.wait(accepted.json())
    assert (done["status"], done["error"]) == ("succeeded", ""), done
    # A new version from changes carries the secret over, sealed; the scale deploys it again.
    await api.act("scale", {"instances": 3})

    secret = await kube.get("v1", "Secret", "web-prod-v1", namespace=api.system)
    assert secret["immutable"] is True
    assert base64.b64decode(secret["data"]["DB_PASSWORD"]).decode() == PASSWORD
    carried = await kube.get("v1", "Secret", "web-prod-v2", namespace=api.system)
    assert base64.b64decode(carried["data"]["DB_PASSWORD"]).decode() == PASSWORD
    deployment = await kube.get("apps/v1", "Deployment", "web-prod", namespace=api.system)
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert container["env"] == [
        {"name": "MODE", "value": "prod"},
        {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "web-prod-v2", "key": "DB_PASSWORD"}}},
    ]
    assert PASSWORD not in str(deployment)

    versions = (await api.http.get(f"{api.group}/versions")).json()
    masks = {v["spec"]["secret_env"]["DB_PASSWORD"] for v in versions}
    assert len(masks) == 1
    assert next(iter(masks)).startswith("<secret:")
    answers = [
        accepted.text,
        str(done),
        str(versions),
        (await api.http.get(f"{api.group}/versions/1")).text,
        (await api.http.get(f"{api.group}/diff", params={"old": 1, "new": 2})).text,
        (await api.http.get(f"{api.group}/operations")).text,
        (await api.http.get(f"/api/v1/systems/{api.system}/operations")).text,
        (await api.http.get(api.group)).text,
    ]
    for answer in answers:
        assert PASSWORD not in answer
    assert (await api.http.get(api.group)).json()["status"]["drift"] == []

    specs = await _raw(database_url, "SELECT spec FROM versions")
    operations = await _raw(database_url, "SELECT params, error FROM operations")
    assert len(specs) == 2
    assert all(PASSWORD not in str(row) for row in specs + operations)
    assert all("DB_PASSWORD" in str(row) for row in specs)  # the variable is there, sealed

    delete = await api.http.delete(api.group)
    assert (await api.wait(delete.json()))["status"] == "succeeded"
    assert await kube.list("v1", "Secret", namespace=api.system, labels={"dockyard.io/group": "prod"}) == []
