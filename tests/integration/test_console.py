"""The web console end to end: Debian's chromium driven by Playwright against a real server process,
the sandbox cluster and a database — the issue's "done when" scenario, done through the browser.

Needs ``/usr/bin/chromium`` (``scripts/setup --test`` installs it) and the built console
(``scripts/setup`` builds ``web/dist``). Screenshots of the overview, the group page and a diff are
written to ``docs/screenshots/`` (committed, linked from the README).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from dockyard.api.console import default_directory
from tests.integration.harness.sandboxes import Sandbox
from tests.integration.harness.servers import process_env, server_process
from tests.integration.harness.tokens import ADMIN
from tests.integration.harness.tokens import ADMIN_TOKEN as TOKEN

pytestmark = pytest.mark.integration

PASSWORD = "a console test passphrase"
VIEWER_PASSWORD = "the viewer's own passphrase"
CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LONG = 120_000  # ms: the machine is shared and loaded; no assertion depends on speed


@contextmanager
def _serve(sandbox: Sandbox, tmp_path: Path, database_url: str) -> Iterator[str]:
    """A server on ``database_url`` with the sandbox registered as ``local`` and a user ``vera``."""
    env = process_env(database_url, tmp_path / "state", DOCKYARD_ADMIN_PASSWORD=PASSWORD)
    log = tmp_path / "server.log"
    with server_process(env, log) as server:
        with httpx.Client(base_url=server.url, headers=ADMIN, timeout=60) as http:
            body = {"name": "local", "kubeconfig": sandbox.kubeconfig.read_text(), "labels": {"idc": "local"}}
            assert http.put("/api/v1/clusters/local", json=body).status_code in (200, 201)
            viewer = {"name": "vera", "password": VIEWER_PASSWORD}
            assert http.post("/api/v1/users", json=viewer).status_code == 201
        yield server.url
    assert "Traceback" not in log.read_text(), log.read_text()[-4000:]


@pytest.fixture
def served(sandbox: Sandbox, tmp_path: Path) -> Iterator[str]:
    """The browser scenario's server (SQLite: the console sees the same API on both databases)."""
    if not (default_directory() / "index.html").is_file():
        pytest.fail("the console is not built: run scripts/setup")
    with _serve(sandbox, tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'dockyard.db'}") as url:
        yield url


@pytest.fixture
def served_on(sandbox: Sandbox, tmp_path: Path, database_url: str) -> Iterator[str]:
    """A server on the test's database (SQLite: the event stream's subject is the cluster), needing no
    console build."""
    with _serve(sandbox, tmp_path, database_url) as url:
        yield url


@pytest.fixture
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: run scripts/setup --test")
    with sync_playwright() as pw:
        # launch() gives every run a fresh, empty profile of its own (a --user-data-dir it deletes after).
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


# The console honours "reduce motion" (no zooming dialogs): a click never lands on a button that is
# still moving in, which under load lost the click and left the dialog open.
SCREEN: dict[str, Any] = {"viewport": {"width": 1440, "height": 1000}, "reduced_motion": "reduce"}


def _login(page: Page, url: str, user: str, password: str) -> None:
    page.goto(url)
    page.get_by_test_id("login-user").fill(user)
    page.get_by_test_id("login-password").fill(password)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("logout")).to_be_visible(timeout=LONG)


def _create(page: Page, button: str, fields: dict[str, str], choices: dict[str, str] | None = None) -> None:
    page.get_by_test_id(button).click()
    dialog = page.get_by_role("dialog")
    for label, value in fields.items():
        dialog.get_by_label(label, exact=True).fill(value)
    for label, value in (choices or {}).items():
        dialog.get_by_label(label, exact=True).click(force=True)
        page.locator(f".ant-select-item-option[title='{value}']").click()
    dialog.get_by_role("button", name="Create").click()
    expect(dialog).to_be_hidden(timeout=LONG)


def _confirm(page: Page) -> None:
    """The confirmation dialog shows what will change; confirm it."""
    dialog = page.get_by_role("dialog").filter(has_text="What will change")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Confirm").click()
    expect(dialog).to_be_hidden(timeout=LONG)


def _settled(page: Page, version: str, ready: str) -> None:
    expect(page.get_by_test_id("current-version")).to_have_text(version, timeout=LONG)
    expect(page.get_by_test_id("card-instances")).to_have_text(ready, timeout=LONG)
    expect(page.get_by_test_id("group-state")).to_have_text("healthy", timeout=LONG)


def test_a_group_lives_its_whole_life_in_the_console(served: str, browser: Browser) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(**SCREEN)
    page = context.new_page()
    page.set_default_timeout(60_000)
    _login(page, served, "admin", PASSWORD)

    # Create a system, an application and a group through the console's dialogs.
    _create(page, "create-system", {"Name": "shop"})
    page.get_by_role("link", name="shop", exact=True).click()
    _create(page, "create-app", {"Name": "web", "Repository": "registry.local/shop/web"})
    page.get_by_role("link", name="web", exact=True).click()
    _create(page, "create-group", {"Name": "prod"}, {"Environment": "prod", "Cluster": "local"})
    page.get_by_role("link", name="prod", exact=True).click()
    expect(page.get_by_test_id("group-state")).to_have_text("not deployed", timeout=LONG)

    # Deploy v1 with 3 instances: the confirmation shows the change; the instances turn Running live.
    page.get_by_test_id("deploy").click()
    form = page.get_by_role("dialog")
    form.get_by_label("Image").fill("registry.local/shop/web:1")
    form.get_by_label("Instances").fill("3")
    form.get_by_role("button", name="Confirm").click()
    expect(page.get_by_test_id("diff")).to_contain_text("registry.local/shop/web:1")
    _confirm(page)
    _settled(page, "v1", "3/3")
    running = page.get_by_test_id("instances").locator(".ant-table-row").filter(has_text="Running")
    expect(running).to_have_count(3, timeout=LONG)

    # Scale to 5.
    page.get_by_test_id("scale").click()
    page.get_by_role("dialog").get_by_label("Instances").fill("5")
    page.get_by_role("dialog").get_by_role("button", name="Confirm").click()
    expect(page.get_by_test_id("diff")).to_contain_text("instances")
    _confirm(page)
    _settled(page, "v2", "5/5")
    expect(running).to_have_count(5, timeout=LONG)

    # Edit a config file: a new version, deployed.
    page.get_by_test_id("tab-config").click()
    page.get_by_test_id("config-new-path").fill("app.yaml")
    page.get_by_role("button", name="Add file").click()
    page.get_by_test_id("config-app.yaml").fill("greeting: hello from the console\n")
    page.get_by_test_id("config-save").click()
    expect(page.get_by_test_id("diff")).to_contain_text("config_files.app.yaml")
    _confirm(page)
    _settled(page, "v3", "5/5")

    # Version history: the diff of v1 and v3, then roll back to v1 after seeing what it changes.
    page.get_by_test_id("tab-versions").click()
    versions = page.get_by_test_id("versions")
    versions.locator(".ant-table-row").filter(has_text=re.compile(r"^v1")).locator("input[type=checkbox]").check()
    versions.locator(".ant-table-row").filter(has_text=re.compile(r"^v3")).locator("input[type=checkbox]").check()
    page.get_by_test_id("compare").click()
    diff = page.get_by_test_id("version-diff")
    expect(diff).to_contain_text("config_files.app.yaml")
    expect(diff).to_contain_text("instances")
    diff.screenshot(path=str(SHOTS / "diff.png"))
    page.get_by_test_id("rollback-v1").click()
    expect(page.get_by_role("dialog").get_by_test_id("diff")).to_contain_text("greeting: hello from the console")
    _confirm(page)
    _settled(page, "v1", "3/3")
    expect(running).to_have_count(3, timeout=LONG)

    # All of it in the operation history, each succeeded.
    page.get_by_test_id("tab-operations").click()
    rows = page.get_by_test_id("operations").locator(".ant-table-row")
    actions = ["rollback", "deploy", "scale", "deploy", "create-group"]
    expect(rows).to_have_count(len(actions), timeout=LONG)
    for row, action in zip(rows.all(), actions, strict=True):
        expect(row.locator("td").nth(1)).to_have_text(action)
        expect(row).to_contain_text("succeeded")
        expect(row).to_contain_text("admin")
    page.get_by_test_id("tab-instances").click()
    page.screenshot(path=str(SHOTS / "group.png"), full_page=True)

    # The same page in Chinese.
    page.get_by_test_id("lang").click()
    expect(page.get_by_test_id("tab-operations")).to_have_text("操作历史")
    expect(page.get_by_test_id("group-state")).to_have_text("健康")
    expect(page.get_by_test_id("deploy")).to_have_text(re.compile("部\\s*署"))
    page.get_by_test_id("lang").click()
    page.get_by_role("link", name="Overview").first.click()
    expect(page.get_by_test_id("systems")).to_contain_text("shop")
    expect(page.get_by_test_id("clusters")).to_contain_text("connected")
    page.screenshot(path=str(SHOTS / "overview.png"), full_page=True)
    context.close()

    # A viewer sees the group but no deploy button, and the API refuses the viewer's deploy.
    admin = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=served, timeout=60) as http:
        grant = http.put("/api/v1/systems/shop/members/vera", json={"role": "viewer"}, headers=admin)
        assert grant.status_code in (200, 201, 204), grant.text
        login = http.post("/api/v1/login", json={"user": "vera", "password": VIEWER_PASSWORD})
        vera = {"Authorization": f"Bearer {login.json()['access_token']}"}
        refused = http.post("/api/v1/systems/shop/apps/web/groups/prod/deploy", json={"version": 2}, headers=vera)
        assert refused.status_code == 403, refused.text
    viewer = browser.new_context(**SCREEN)
    page = viewer.new_page()
    _login(page, served, "vera", VIEWER_PASSWORD)
    page.goto(f"{served}/systems/shop/apps/web/groups/prod")
    expect(page.get_by_test_id("current-version")).to_have_text("v1", timeout=LONG)
    expect(page.get_by_test_id("actions-denied")).to_contain_text("viewer")
    expect(page.get_by_test_id("deploy")).to_have_count(0)
    viewer.close()


def _events(lines: Iterator[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    kind = ""
    for line in lines:
        if line.startswith("event: "):
            kind = line.removeprefix("event: ")
        elif line.startswith("data: "):
            yield kind, json.loads(line.removeprefix("data: "))


def test_the_group_event_stream_follows_the_cluster_and_ends_when_the_group_goes(served_on: str) -> None:
    admin = {"Authorization": f"Bearer {TOKEN}"}
    group = "/api/v1/systems/ev/apps/web/groups/prod"
    with httpx.Client(base_url=served_on, headers=admin, timeout=60) as http:
        for path, body in (
            ("/api/v1/systems", {"name": "ev"}),
            ("/api/v1/systems/ev/apps", {"name": "web", "repository": "registry.local/ev/web"}),
            ("/api/v1/systems/ev/apps/web/groups", {"name": "prod", "environment": "prod", "cluster": "local"}),
        ):
            assert http.post(path, json=body).status_code == 201
        once = http.get(f"{group}/events", params={"once": "true"})
        assert once.headers["content-type"].startswith("text/event-stream")
        assert [k for k, _ in _events(iter(once.text.splitlines()))] == ["snapshot"]

        with http.stream("GET", f"{group}/events", timeout=httpx.Timeout(60, read=180)) as stream:
            events = _events(stream.iter_lines())
            kind, first = next(events)
            assert (kind, first["group"]["status"]["state"], first["instances"]["items"]) == (
                "snapshot",
                "not-deployed",
                [],
            )
            spec = {"image": "registry.local/ev/web:1", "flavor": "small", "instances": 2}
            assert http.post(f"{group}/deploy", json={"spec": spec}).status_code == 202
            states = []
            for kind, snap in events:  # one snapshot per change, until the deploy is done and the group healthy
                assert kind == "snapshot"
                states.append(snap["group"]["status"]["state"])
                if states[-1] == "healthy" and snap["operations"][0]["status"] == "succeeded":
                    break
            assert "progressing" in states
            assert [i["ready"] for i in snap["instances"]["items"]] == [True, True]
            assert snap["operations"][0]["action"] == "deploy"
            assert {i["phase"] for i in snap["instances"]["items"]} == {"Running"}
            assert http.delete(group).status_code == 202
            rest = list(events)  # the stream ends once the group is gone
        assert rest[-1] == ("error", {"code": "not_found", "message": rest[-1][1]["message"]})


def test_a_revoked_role_ends_the_group_event_stream(served: str) -> None:
    admin = {"Authorization": f"Bearer {TOKEN}"}
    group = "/api/v1/systems/rv/apps/web/groups/prod"
    with httpx.Client(base_url=served, timeout=60) as http:
        for path, body in (
            ("/api/v1/systems", {"name": "rv"}),
            ("/api/v1/systems/rv/apps", {"name": "web", "repository": "registry.local/rv/web"}),
            ("/api/v1/systems/rv/apps/web/groups", {"name": "prod", "environment": "prod", "cluster": "local"}),
        ):
            assert http.post(path, json=body, headers=admin).status_code == 201
        assert http.put("/api/v1/systems/rv/members/vera", json={"role": "viewer"}, headers=admin).status_code < 300
        login = http.post("/api/v1/login", json={"user": "vera", "password": VIEWER_PASSWORD}).json()
        vera = {"Authorization": f"Bearer {login['access_token']}"}
        assert http.get(f"{group}/events", headers={}, params={"once": "true"}).status_code == 401
        with http.stream("GET", f"{group}/events", headers=vera, timeout=httpx.Timeout(60, read=120)) as stream:
            events = _events(stream.iter_lines())
            assert next(events)[0] == "snapshot"
            assert http.delete("/api/v1/systems/rv/members/vera", headers=admin).status_code < 300
            kind, body = list(events)[-1]  # within a few seconds: the stream re-reads the caller's roles
        assert (kind, body["code"]) == ("error", "not_found")
