"""The web console end to end: Debian's chromium driven by Playwright against a real server process,
the sandbox cluster and a database — the issue's "done when" scenario, done through the browser.

Needs ``/usr/bin/chromium`` (``scripts/setup --test`` installs it) and the built console
(``scripts/setup`` builds ``web/dist``). Screenshots of the overview, the group page and a diff are
written to ``docs/screenshots/`` (committed, linked from the README).
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from dockyard.api.console import default_directory
from tests.integration.harness.browser import ARGS, CHROMIUM, LONG
from tests.integration.harness.sandboxes import Sandbox
from tests.integration.harness.servers import process_env, server_process
from tests.integration.harness.tokens import ADMIN
from tests.integration.harness.tokens import ADMIN_TOKEN as TOKEN

pytestmark = pytest.mark.integration

PASSWORD = "a console test passphrase"
VIEWER_PASSWORD = "the viewer's own passphrase"
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


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


@dataclass
class BuildServer:
    url: str
    sources: Path
    log: Path


@pytest.fixture
def served_with_builds(sandbox: Sandbox, tmp_path: Path, run_dir: Path) -> Iterator[BuildServer]:
    """A server whose builds may take file:// sources under ``tmp_path/sources``, as `dockyard up`'s do
    under its sources directory; the console must be built."""
    if not (default_directory() / "index.html").is_file():
        pytest.fail("the console is not built: run scripts/setup")
    sources = tmp_path / "sources"
    sources.mkdir()
    env = process_env(
        f"sqlite+aiosqlite:///{tmp_path / 'dockyard.db'}",
        tmp_path / "state",
        DOCKYARD_ADMIN_PASSWORD=PASSWORD,
        DOCKYARD_BUILD_SOURCE_ROOTS=str(sources),
        DOCKYARD_BUILD_DIR=str(run_dir / "builds"),
    )
    log = tmp_path / "server.log"
    with server_process(env, log) as server:
        with httpx.Client(base_url=server.url, headers=ADMIN, timeout=60) as http:
            body = {"name": "local", "kubeconfig": sandbox.kubeconfig.read_text(), "labels": {"idc": "local"}}
            assert http.put("/api/v1/clusters/local", json=body).status_code in (200, 201)
        yield BuildServer(server.url, sources, log)
    assert "Traceback" not in log.read_text(), log.read_text()[-4000:]


def _git(repo: Path, *args: str) -> str:
    env = {"PATH": "/usr/bin:/bin", "GIT_AUTHOR_NAME": "momo", "GIT_AUTHOR_EMAIL": "m@x"}
    env |= {"GIT_COMMITTER_NAME": "momo", "GIT_COMMITTER_EMAIL": "m@x"}
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout.strip()


def _commit(repo: Path, base_image: str, text: str) -> str:
    (repo / "Dockerfile").write_text(f"FROM {base_image}\nCOPY index.html /www/index.html\n")
    (repo / "index.html").write_text(text)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", text)
    return _git(repo, "rev-parse", "HEAD")


def _build_state(server: BuildServer) -> str:
    """What the API and the server's log say about the application's builds (for a failed wait)."""
    with httpx.Client(base_url=server.url, headers=ADMIN, timeout=30) as http:
        builds = http.get("/api/v1/systems/momo/apps/web/builds").json()
        logs = [http.get(f"/api/v1/systems/momo/apps/web/builds/{b['id']}/logs").json() for b in builds[:1]]
    server_log = server.log.read_text()[-3000:]
    return f"builds: {json.dumps(builds, indent=1)}\nlog: {json.dumps(logs)[-3000:]}\nserver: {server_log}"


def _build_in_console(page: Page, server: BuildServer) -> None:
    """Start a build of branch main from the builds tab; its log follows live until it succeeded."""
    page.get_by_test_id("build-ref").fill("main")
    page.get_by_test_id("build-start").click()
    try:
        expect(page.get_by_test_id("build-log-end")).to_have_text("succeeded", timeout=240_000)
    except AssertionError as e:
        raise AssertionError(f"{e}\n{_build_state(server)}") from e
    expect(page.get_by_test_id("build-log")).to_contain_text("COPY index.html")
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("build-log")).to_be_hidden(timeout=LONG)


AXE = Path(__file__).resolve().parents[2] / "web" / "node_modules" / "axe-core" / "axe.min.js"


def _axe(page: Page, screen: str, found: dict[str, list[str]]) -> None:
    """axe-core's check of what the page shows now: its serious and critical violations, by screen."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => (await window.axe.run(document)).violations")
    bad = [v for v in result if v["impact"] in ("serious", "critical")]
    for v in bad:
        targets = [" ".join(map(str, n["target"])) for n in v["nodes"][:3]]
        found.setdefault(screen, []).append(f"{v['id']} ({v['impact']}): {v['help']} — {targets}")


def test_momo_builds_releases_and_watches_through_the_console(
    served_with_builds: BuildServer, sandbox: Sandbox, browser: Browser
) -> None:
    """Momo's flow in the browser only: build commit A from a local git repository, deploy it, build
    commit B, gray release it [gray 1, pause, 100%] watching the instances per version, promote (the
    old version goes offline), restart an instance and read its events, roll back to v1; the placement
    tab, the system page, the overview's capacity and the cluster page; axe-core finds no serious or
    critical violation on those screens. Screenshots of each new screen, en and zh."""
    server = served_with_builds
    served = server.url
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: npm ci in web/")
    repo = server.sources / "web"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    first = _commit(repo, sandbox.base_image, "hello from commit A\n")
    SHOTS.mkdir(parents=True, exist_ok=True)
    violations: dict[str, list[str]] = {}
    context = browser.new_context(**SCREEN)
    page = context.new_page()
    page.set_default_timeout(60_000)
    _login(page, served, "admin", PASSWORD)

    _create(page, "create-system", {"Name": "momo"})
    page.get_by_role("link", name="momo", exact=True).click()
    _create(page, "create-app", {"Name": "web", "Repository": f"{sandbox.registry}/momo/web"})
    page.get_by_role("link", name="web", exact=True).click()
    _create(page, "create-group", {"Name": "prod"}, {"Environment": "prod", "Cluster": "local"})
    page.get_by_role("link", name="prod", exact=True).click()
    group_url = page.url
    expect(page.get_by_test_id("group-state")).to_have_text("not deployed", timeout=LONG)

    # Build commit A, deploy it, scale to 3.
    page.get_by_test_id("tab-builds").click()
    page.get_by_test_id("build-source").fill(f"file://{repo}")
    _build_in_console(page, server)
    builds = page.get_by_test_id("builds-table").locator(".ant-table-row")
    expect(builds.first).to_contain_text(first[:12])
    expect(builds.first).to_contain_text(f"{sandbox.registry}/momo/web@sha256:")
    builds.first.locator("[data-testid^=build-deploy-]").click()
    _confirm(page)
    _settled(page, "v1", "1/1")
    page.get_by_test_id("scale").click()
    page.get_by_role("dialog").get_by_label("Instances").fill("3")
    page.get_by_role("dialog").get_by_role("button", name="Confirm").click()
    _confirm(page)
    _settled(page, "v2", "3/3")

    # Build commit B (the source is remembered) and release it gray: [gray 1, pause, 100%].
    second = _commit(repo, sandbox.base_image, "hello from commit B\n")
    expect(page.get_by_test_id("build-source")).to_have_value(f"file://{repo}")
    _build_in_console(page, server)
    expect(builds.first).to_contain_text(second[:12])
    page.screenshot(path=str(SHOTS / "builds.png"), full_page=True)
    _axe(page, "builds tab", violations)
    builds.first.locator("[data-testid^=build-release-]").click()
    dialog = page.get_by_role("dialog").filter(has_text="Instances per step")
    preview = dialog.get_by_test_id("step-preview")
    expect(preview).to_contain_text("gray 1")
    expect(preview.locator(".ant-table-row").nth(0).locator("td").nth(3)).to_have_text("2")  # gray 1 of 3: 2 stay
    dialog.screenshot(path=str(SHOTS / "release-start.png"))
    _axe(page, "start a release", violations)
    page.locator("#release-start-ok").click()
    expect(dialog).to_be_hidden(timeout=LONG)
    release = page.get_by_test_id("release")
    expect(release).to_contain_text("paused", timeout=LONG)
    expect(release).to_contain_text("v2: 2 · v3: 1 / 3", timeout=LONG)
    _axe(page, "releases tab", violations)
    page.get_by_test_id("tab-instances").click()
    rows = page.get_by_test_id("instances").locator(".ant-table-row")
    expect(rows.filter(has_text="v3")).to_have_count(1, timeout=LONG)
    expect(rows.filter(has_text="v2")).to_have_count(2, timeout=LONG)
    page.get_by_test_id("tab-releases").click()
    release.get_by_role("button", name="Promote").click()
    expect(release).to_contain_text("succeeded", timeout=LONG)
    _settled(page, "v3", "3/3")
    page.get_by_test_id("tab-instances").click()
    expect(rows.filter(has_text="v2")).to_have_count(0, timeout=LONG)  # the old version is offline
    expect(rows.filter(has_text="v3")).to_have_count(3, timeout=LONG)
    _axe(page, "group page", violations)

    # An instance: restart it (confirmed), then its events.
    victim = rows.first.locator(".ant-table-cell").first.inner_text().strip()
    page.get_by_test_id(f"restart-{victim}").click()
    _confirm(page)
    expect(rows.filter(has_text=victim)).to_have_count(0, timeout=LONG)
    expect(rows.filter(has_text="Running")).to_have_count(3, timeout=LONG)
    other = rows.first.locator(".ant-table-cell").first.inner_text().strip()
    page.get_by_test_id(f"events-{other}").click()
    expect(page.get_by_test_id("instance-events")).to_contain_text("Scheduled", timeout=LONG)
    page.screenshot(path=str(SHOTS / "instance-events.png"))
    page.keyboard.press("Escape")

    # Roll back to v1.
    page.get_by_test_id("tab-versions").click()
    page.get_by_test_id("rollback-v1").click()
    _confirm(page)
    _settled(page, "v1", "1/1")

    # The placement preview of 5 instances, with the scheduler's verdict per cluster.
    page.get_by_test_id("tab-placement").click()
    page.get_by_test_id("preview-instances").fill("5")
    page.get_by_test_id("preview-run").click()
    expect(page.get_by_test_id("preview-total")).to_contain_text("5 / 5 fit", timeout=LONG)
    page.screenshot(path=str(SHOTS / "placement.png"), full_page=True)
    _axe(page, "placement tab", violations)

    # The system page: every group with its state, version and instances; the overview's capacity.
    page.goto(f"{served}/systems/momo")
    expect(page.get_by_test_id("state-web-prod")).to_have_text("healthy", timeout=LONG)
    expect(page.get_by_test_id("system-groups")).to_contain_text("v1 (v3)")
    page.screenshot(path=str(SHOTS / "system.png"), full_page=True)
    _axe(page, "system page", violations)
    page.get_by_role("link", name="Overview").first.click()
    expect(page.get_by_test_id("capacity")).to_contain_text("local", timeout=LONG)
    page.screenshot(path=str(SHOTS / "overview-capacity.png"), full_page=True)
    _axe(page, "overview", violations)
    page.get_by_test_id("capacity").get_by_role("link", name="local").click()
    expect(page.get_by_test_id("cluster-title")).to_have_text("local")
    expect(page.get_by_test_id("capacity")).to_contain_text("idc-", timeout=LONG)  # its pools, expanded
    page.screenshot(path=str(SHOTS / "cluster.png"), full_page=True)
    _axe(page, "cluster page", violations)

    # The same screens in Chinese.
    page.get_by_test_id("lang").click()
    for name, url, ready in (
        ("cluster", page.url, "cluster-title"),
        ("system", f"{served}/systems/momo", "system-groups"),
        ("overview-capacity", served, "capacity"),
        ("builds", group_url, "tab-builds"),
        ("placement", group_url, "tab-placement"),
        ("release-start", group_url, "release-start"),
    ):
        page.goto(url)
        expect(page.get_by_test_id(ready)).to_be_visible(timeout=LONG)
        if name == "builds":
            page.get_by_test_id("tab-builds").click()
            expect(page.get_by_test_id("builds-table")).to_contain_text(second[:12], timeout=LONG)
        elif name == "placement":
            page.get_by_test_id("tab-placement").click()
            page.get_by_test_id("preview-run").click()
            expect(page.get_by_test_id("preview-total")).to_be_visible(timeout=LONG)
        elif name == "release-start":
            page.get_by_test_id("release-start").click()
            dialog = page.get_by_role("dialog").filter(has=page.get_by_test_id("step-editor"))
            expect(dialog.get_by_test_id("step-preview")).to_be_visible(timeout=LONG)
            dialog.screenshot(path=str(SHOTS / f"{name}-zh.png"))
            _axe(page, f"{name} (zh)", violations)
            continue
        page.screenshot(path=str(SHOTS / f"{name}-zh.png"), full_page=True)
        _axe(page, f"{name} (zh)", violations)
    context.close()
    assert not violations, json.dumps(violations, indent=1, ensure_ascii=False)
