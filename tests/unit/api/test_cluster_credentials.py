"""Cluster registration through the API: kubeconfigs by content, stored sealed, never shown or echoed."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dockyard import bootstrap
from dockyard.api.app import create_app
from dockyard.settings import Settings

TOKEN = "dy_" + "k" * 40
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CLUSTER_TOKEN = "kube-bearer-token-0123456789"
KUBECONFIG = (
    "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
    "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1', certificate-authority-data: Q0EK}}]\n"
    f"users: [{{name: u, user: {{token: {CLUSTER_TOKEN}}}}}]\n"
    "contexts: [{name: c, context: {cluster: c, user: u}}]\n"
)


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    return tmp_path / "d.db"


@pytest.fixture
def client(db_file: Path) -> Iterator[TestClient]:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{db_file}", admin_token=TOKEN, executor=False)
    with TestClient(create_app(bootstrap.server(settings))) as c:
        yield c


def _rows(db_file: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(db_file) as conn:
        return list(conn.execute("SELECT name, kubeconfig, kubeconfig_form FROM clusters"))


def test_a_kubeconfig_is_stored_sealed_and_never_returned(client: TestClient, db_file: Path) -> None:
    body = {"name": "far", "kubeconfig": KUBECONFIG, "labels": {"idc": "a"}}
    response = client.put("/api/v1/clusters/far", json=body, headers=AUTH)
    assert response.status_code == 201, response.text
    assert "kubeconfig" not in response.json()
    assert CLUSTER_TOKEN not in response.text
    for path in ("/api/v1/clusters", "/api/v1/clusters/far", "/readyz"):
        assert CLUSTER_TOKEN not in client.get(path, headers=AUTH).text
        assert "127.0.0.1:1" not in client.get("/api/v1/clusters/far", headers=AUTH).text
    [(name, stored, form)] = _rows(db_file)
    assert (name, form) == ("far", "sealed")
    assert CLUSTER_TOKEN not in stored
    assert "https://" not in stored
    assert client.app.state.platform.box.open(stored).count(CLUSTER_TOKEN) == 1  # type: ignore[attr-defined]


def test_in_cluster_is_stored_as_such(client: TestClient, db_file: Path) -> None:
    body = {"name": "here", "kubeconfig": "in-cluster", "labels": {}}
    assert client.put("/api/v1/clusters/here", json=body, headers=AUTH).status_code == 201
    assert _rows(db_file) == [("here", "in-cluster", "in-cluster")]


@pytest.mark.parametrize(
    "kubeconfig",
    [
        "/etc/kubernetes/admin.conf",
        KUBECONFIG.replace("current-context: c", "current-context: x"),
        KUBECONFIG.replace("token:", "tokenFile: /etc/shadow, token:"),
        KUBECONFIG + f"extra: [{CLUSTER_TOKEN}",
    ],
)
def test_a_bad_kubeconfig_is_422_naming_the_field_without_its_content(
    client: TestClient, db_file: Path, kubeconfig: str
) -> None:
    response = client.put("/api/v1/clusters/far", json={"name": "far", "kubeconfig": kubeconfig}, headers=AUTH)
    assert response.status_code == 422, response.text
    assert response.json()["details"]["field"] == "kubeconfig"
    assert CLUSTER_TOKEN not in response.text
    assert "/etc/" not in response.text
    assert _rows(db_file) == []
