"""/healthz and /readyz against a real SQLite database (no cluster needed for these cases)."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dockyard import bootstrap
from dockyard.api.app import create_app
from dockyard.domain.clusters import Cluster
from dockyard.services.clusters import register_cluster
from dockyard.settings import Settings


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'd.db'}", cluster_health_timeout=2.0)
    with TestClient(create_app(bootstrap.server(settings))) as c:
        yield c


def test_healthz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_reports_the_database_and_no_clusters(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "database": {"ok": True, "detail": "sqlite"}, "clusters": {}}


def test_readyz_is_503_when_a_cluster_cannot_be_reached(client: TestClient) -> None:
    far = (
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n"
        "users: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\n"
    )
    platform = client.app.state.platform  # type: ignore[attr-defined]
    client.portal.call(lambda: register_cluster(platform, name="far", kubeconfig=far, labels={}))  # type: ignore[union-attr]
    garbled = far.replace(
        "server: 'https://127.0.0.1:1'", "server: 'https://127.0.0.1:1', certificate-authority-data: '!!notbase64'"
    )
    client.portal.call(lambda: register_cluster(platform, name="garbled", kubeconfig=garbled, labels={}))  # type: ignore[union-attr]

    async def register_by_path() -> None:
        async with platform.db.unit_of_work() as uow:
            await uow.clusters.upsert(Cluster("gone", "/etc/kubernetes/admin.conf", kubeconfig_form="path"))

    client.portal.call(register_by_path)  # type: ignore[union-attr]
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready"
    assert body["database"]["ok"] is True
    assert body["clusters"]["far"]["ok"] is False
    assert body["clusters"]["far"]["detail"].startswith("unreachable")
    assert body["clusters"]["garbled"] == {"ok": False, "detail": "its kubeconfig cannot be loaded"}
    assert body["clusters"]["gone"]["ok"] is False
    assert "register it again with the kubeconfig's content" in body["clusters"]["gone"]["detail"]


def test_unknown_path_is_a_json_error(client: TestClient) -> None:
    # Outside /api/ an unknown GET is one of the console's client routes (tests/unit/api/test_console.py).
    response = client.get("/api/nope")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
