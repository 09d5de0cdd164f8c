"""The `dockyard` CLI against a real server process and the sandbox: tables, -o json, progress, exit codes."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.harness.cli import run
from tests.integration.harness.sandboxes import Sandbox
from tests.integration.harness.servers import process_env, server_process
from tests.integration.harness.tokens import ADMIN_TOKEN as TOKEN
from tests.integration.harness.waiting import eventually_blocking


@pytest.fixture
def cli(sandbox: Sandbox, database_url: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    """A server process on a fresh database; the environment a CLI user of it has (no token yet)."""
    env = process_env(database_url, tmp_path / "state")
    with server_process(env, tmp_path / "server.log") as server:
        yield {
            "DOCKYARD_SERVER": server.url,
            "DOCKYARD_CLI_CONFIG": str(tmp_path / "cli.yaml"),
            "DOCKYARD_STATE_DIR": str(tmp_path / "cli-state"),
            "HOME": str(tmp_path),
        }


def test_the_cli_runs_the_whole_life_of_a_group(cli: dict[str, str], sandbox: Sandbox, tmp_path: Path) -> None:
    denied = run(cli, "system", "list", ok=False)
    assert denied.returncode == 1
    assert denied.stderr.startswith("error: a valid token is required")
    assert len(denied.stderr.strip().splitlines()) == 1

    run(cli, "login", "--token", TOKEN)
    assert (tmp_path / "cli.yaml").stat().st_mode & 0o777 == 0o600
    run(cli, "cluster", "register", "local", "--kubeconfig", str(sandbox.kubeconfig), "--label", "idc=local")
    system = f"cli-{uuid.uuid4().hex[:8]}"
    run(cli, "system", "create", system, "--cpu-millis", "64000", "--memory-mib", "65536")
    run(cli, "app", "create", f"{system}/web", "--repository", "registry.local/shop/web")
    target = f"{system}/web/prod"
    run(cli, "group", "create", target, "--env", "prod", "--cluster", "local")

    spec = tmp_path / "v1.yaml"
    spec.write_text(
        "image: registry.local/shop/web:1\nflavor: small\ninstances: 3\nports: [{name: http, port: 8080}]\n"
    )
    deployed = run(cli, "deploy", target, "--spec", str(spec))
    assert "deploy of " in deployed.stdout
    assert "succeeded" in deployed.stdout
    run(cli, "scale", target, "5")
    config = tmp_path / "app.yaml"
    config.write_text("greeting: bye\n")
    run(cli, "deploy", target, "--image", "registry.local/shop/web:2", "--config-file", f"app.yaml={config}")
    run(cli, "rollback", target, "1")

    group = json.loads(run(cli, "group", "show", target, "-o", "json").stdout)
    assert (group["current_version"], group["latest_version"]) == (1, 3)
    versions = run(cli, "versions", target).stdout
    assert "registry.local/shop/web:2" in versions
    assert "scale from 3 to 5 instances" in versions
    diff = run(cli, "diff", target, "1", "3").stdout
    assert "image" in diff
    assert "config_files.app.yaml" in diff
    history = json.loads(run(cli, "history", target, "-o", "json").stdout)
    assert [o["action"] for o in history][:4] == ["rollback", "deploy", "scale", "deploy"]
    table = run(cli, "instances", target).stdout
    assert table.splitlines()[0].split()[:3] == ["NAME", "STATUS", "READY"]

    bad = run(cli, "scale", target, "501", ok=False)
    assert bad.returncode == 1
    assert bad.stderr == "error: instances: Input should be less than or equal to 500\n"
    refused = run(cli, "deploy", target, "--instances", "400", "--flavor", "xlarge", ok=False)
    assert refused.returncode == 1
    assert "instances would not fit" in refused.stderr
    assert "Insufficient cpu" in refused.stderr
    args = ("--instances", "400", "--flavor", "xlarge", "--deadline", "5", "--force")
    failed = run(cli, "deploy", target, *args, ok=False)
    assert failed.returncode == 1
    assert "failed after" in failed.stderr
    assert "Insufficient" in failed.stderr or "exceeded quota" in failed.stderr

    run(cli, "group", "delete", target)
    assert json.loads(run(cli, "group", "list", f"{system}/web", "-o", "json").stdout) == []
    run(cli, "app", "delete", f"{system}/web")
    run(cli, "system", "delete", system)
    assert run(cli, "system", "show", system, ok=False).stderr == f"error: system {system!r} does not exist\n"


def test_password_login_members_and_logout(cli: dict[str, str], tmp_path: Path) -> None:
    admin = {**cli, "DOCKYARD_TOKEN": TOKEN}
    system = f"cli-{uuid.uuid4().hex[:8]}"
    run(admin, "system", "create", system)
    run(admin, "user", "create", "olga", "--password-stdin", stdin="a long and fine passphrase\n")
    run(admin, "member", "grant", system, "olga", "viewer")

    wrong = run(cli, "login", "--user", "olga", "--password-stdin", ok=False, stdin="not the passphrase\n")
    assert (wrong.returncode, wrong.stderr.strip()) == (1, "error: wrong user name or password")
    run(cli, "login", "--user", "olga", "--password-stdin", stdin="a long and fine passphrase\n")
    config = tmp_path / "cli.yaml"
    assert config.stat().st_mode & 0o777 == 0o600
    assert "a long and fine passphrase" not in config.read_text()
    assert system in run(cli, "system", "list").stdout
    members = json.loads(run(cli, "member", "list", system, "-o", "json").stdout)
    assert [(m["user"], m["role"]) for m in members] == [("olga", "viewer")]
    refused = run(cli, "member", "grant", system, "olga", "owner", ok=False)
    assert refused.returncode == 1
    assert "does not allow 'manage'" in refused.stderr

    run(cli, "logout")
    assert "token" not in config.read_text()
    after = run(cli, "system", "list", ok=False)
    assert after.returncode == 1
    assert "a valid token is required" in after.stderr


def test_a_gray_release_from_the_cli(cli: dict[str, str], sandbox: Sandbox, tmp_path: Path) -> None:
    admin = {**cli, "DOCKYARD_TOKEN": TOKEN}
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(sandbox.kubeconfig.read_text())
    run(admin, "cluster", "register", "local", "--kubeconfig", str(kubeconfig))
    system = f"rel-{uuid.uuid4().hex[:6]}"
    target = f"{system}/web/prod"
    run(admin, "system", "create", system)
    run(admin, "app", "create", f"{system}/web", "--repository", "registry.local/web")
    run(admin, "group", "create", target, "--env", "prod", "--cluster", "local")
    spec = tmp_path / "v1.yaml"
    spec.write_text("image: registry.local/web:1\nflavor: tiny\ninstances: 4\n")
    run(admin, "deploy", target, "--spec", str(spec))

    started = run(
        admin, "release", "start", target, "--image", "registry.local/web:2", "--steps", "gray 1, pause, 100%"
    )
    assert "version 1 → 2" in started.stdout
    eventually_blocking(
        lambda: json.loads(run(admin, "release", "status", target, "-o", "json").stdout)["status"] == "paused",
        "the release to pause at its first step",
        timeout=90,
        interval=0.5,
    )
    shown = run(admin, "release", "status", target).stdout
    assert "gray 1" in shown
    assert "2 (new)" in shown
    assert "promote taken" in run(admin, "release", "promote", target).stdout
    watched = run(admin, "release", "status", target, "--watch")
    assert "succeeded" in watched.stdout.splitlines()[-1]
    listed = json.loads(run(admin, "release", "list", target, "-o", "json").stdout)
    assert [r["status"] for r in listed] == ["succeeded"]
    refused = run(admin, "release", "abort", target, ok=False)
    assert refused.returncode == 1
    assert "has ended" in refused.stderr


def test_location_grants_and_an_apps_default_location_from_the_cli(cli: dict[str, str], sandbox: Sandbox) -> None:
    run(cli, "login", "--token", TOKEN)
    run(cli, "cluster", "register", "local", "--kubeconfig", str(sandbox.kubeconfig), "--label", "idc=local")
    system = f"loc-{uuid.uuid4().hex[:8]}"
    run(cli, "system", "create", system)
    run(cli, "app", "create", f"{system}/web", "--repository", "registry.local/shop/web")

    nothing = run(cli, "location", "request", system, ok=False)
    assert (nothing.returncode, nothing.stderr) == (
        1,
        "error: give the location: --idc, --provider, --region and/or --cluster\n",
    )
    asked = run(cli, "location", "request", system, "--idc", "local", "--reason", "the only IDC")
    assert "idc=local" in asked.stdout
    assert "requested" in asked.stdout
    grant = json.loads(run(cli, "location", "list", system, "-o", "json").stdout)[0]
    approved = json.loads(run(cli, "location", "approve", system, str(grant["id"]), "-o", "json").stdout)
    assert (approved["status"], approved["decided_by"], approved["location"]) == ("approved", "admin", {"idc": "local"})
    again = run(cli, "location", "approve", system, str(grant["id"]), ok=False)
    assert again.returncode == 1
    assert again.stderr.startswith(f"error: location grant {grant['id']} is approved")

    app = json.loads(run(cli, "location", "default", f"{system}/web", "--idc", "local", "-o", "json").stdout)
    assert app["location"] == {"idc": "local"}
    cleared = json.loads(run(cli, "location", "default", f"{system}/web", "-o", "json").stdout)
    assert cleared["location"] is None
