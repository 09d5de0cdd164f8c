"""Serving the web console: index at /, files of the build, client routes fall back to index.html,
nothing outside the build, the API's 404s stay JSON, and a clear page when the console is not built."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dockyard import bootstrap
from dockyard.api.app import create_app
from dockyard.settings import Settings

TOKEN = "dy_" + "q" * 40
AUTH = {"Authorization": f"Bearer {TOKEN}"}
INDEX = "<!doctype html><div id=root></div>"


def _client(tmp_path: Path, console: Path) -> TestClient:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'd.db'}",
        admin_token=TOKEN,
        executor=False,
        console_dir=console,
        admin_token_file=tmp_path / "t",
        admin_password_file=tmp_path / "p",
        secret_key_file=tmp_path / "k",
    )
    return TestClient(create_app(bootstrap.server(settings)))


@pytest.fixture
def built(tmp_path: Path) -> Iterator[TestClient]:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(INDEX)
    (dist / "assets" / "index-abc.js").write_text("console.log(1)")
    (tmp_path / "secret.txt").write_text("outside the build")
    with _client(tmp_path, dist) as c:
        yield c


def test_the_console_is_served_at_the_root_and_for_its_client_routes(built: TestClient) -> None:
    assert built.get("/").text == INDEX
    page = built.get("/systems/shop/apps/web/groups/prod")
    assert (page.status_code, page.text) == (200, INDEX)
    asset = built.get("/assets/index-abc.js")
    assert asset.text == "console.log(1)"
    assert "immutable" in asset.headers["cache-control"]


def test_paths_never_leave_the_build(built: TestClient) -> None:
    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/assets/../../secret.txt"):
        assert "outside the build" not in built.get(path).text


def test_the_api_keeps_its_json_404_and_mutations_are_not_pages(built: TestClient) -> None:
    missing = built.get("/api/v1/nothing-here", headers=AUTH)
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    assert built.post("/systems/shop", json={}).status_code == 404


def test_without_a_build_the_root_says_how_to_build_it_and_the_api_works(tmp_path: Path) -> None:
    with _client(tmp_path, tmp_path / "no-dist") as c:
        root = c.get("/")
        assert root.status_code == 200
        assert "scripts/setup" in root.text
        assert c.get("/systems/shop").status_code == 404
        assert c.get("/api/v1/systems", headers=AUTH).status_code == 200


def test_me_answers_the_callers_roles(built: TestClient) -> None:
    me = built.get("/api/v1/users/me", headers=AUTH).json()
    assert me == {"name": "admin", "admin": True, "roles": {}, "app_roles": []}
