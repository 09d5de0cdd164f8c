"""A server on a SQLite file with a system ``shop`` (application ``web``, groups ``prod`` and
``canary`` on an unreachable cluster), a second system ``other``, and users with roles, for the
alerting API tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from dockyard import bootstrap
from dockyard.api.app import create_app
from dockyard.settings import Settings

TOKEN = "dy_" + "w" * 40
AUTH = {"Authorization": f"Bearer {TOKEN}"}
KUBECONFIG = (
    "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
    "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1', certificate-authority-data: Q0EK}}]\n"
    "users: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\n"
)


def ok(response: httpx.Response, status: int = 200) -> httpx.Response:
    assert response.status_code == status, response.text
    return response


def user(client: TestClient, name: str, *, system: str | None = None, role: str = "viewer") -> dict[str, str]:
    """A user's auth headers; with ``system``, holding ``role`` there."""
    ok(client.post("/api/v1/users", json={"name": name}, headers=AUTH), 201)
    made = ok(client.post(f"/api/v1/users/{name}/tokens", json={"name": "t"}, headers=AUTH), 201)
    if system:
        ok(client.put(f"/api/v1/systems/{system}/members/{name}", json={"role": role}, headers=AUTH), 201)
    return {"Authorization": f"Bearer {made.json()['token']}"}


def world_client(tmp_path: Path, **settings: object) -> Iterator[TestClient]:
    config = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'd.db'}",
        admin_token=TOKEN,
        admin_token_file=tmp_path / "admin-token",
        # The receivers listen on loopback: allowed here as an administrator would (SSRF guard).
        **{"executor": False, "channel_allowed_networks": ["127.0.0.0/8"], **settings},  # type: ignore[arg-type]
    )
    with TestClient(create_app(bootstrap.server(config)), raise_server_exceptions=False) as c:
        ok(c.put("/api/v1/clusters/far", json={"name": "far", "kubeconfig": KUBECONFIG}, headers=AUTH), 201)
        for system in ("shop", "other"):
            ok(c.post("/api/v1/systems", json={"name": system}, headers=AUTH), 201)
            app = {"name": "web", "repository": f"registry.local/{system}/web"}
            ok(c.post(f"/api/v1/systems/{system}/apps", json=app, headers=AUTH), 201)
            for group in ("prod", "canary"):
                body = {"name": group, "environment": "test", "cluster": "far"}
                ok(c.post(f"/api/v1/systems/{system}/apps/web/groups", json=body, headers=AUTH), 201)
        yield c
