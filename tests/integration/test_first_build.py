"""A new user's first build, exactly as the README says it: the README's shell block runs as written
(the system's name and the sandbox registry's port made this test's own), against a server allowing
the sources ``dockyard up`` allows — and nothing else: other ``file://`` paths and loopback stay refused."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from dockyard.adapters.kube.client import KubeCluster
from dockyard.cli.server import with_local_sources
from dockyard.settings import Settings
from tests.integration.harness.cli import DOCKYARD, run
from tests.integration.harness.sandboxes import Sandbox
from tests.integration.harness.servers import process_env, server_process
from tests.integration.harness.tokens import ADMIN_TOKEN

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
SANDBOX_REGISTRY = "127.0.0.1:5000"  # what the README and examples/hello say: `dockyard up`'s registry


def readme_block(marker: str) -> str:
    """The first ```sh block after the HTML comment naming ``marker``."""
    text = README.read_text()
    found = re.search(rf"<!-- {re.escape(marker)}\b.*?-->\s*```sh\n(.*?)```", text, re.S)
    assert found, f"README has no block marked {marker!r}"
    return found.group(1)


def readme_line(prefix: str) -> str:
    """The README's command line starting with ``prefix`` (its comment dropped)."""
    for line in README.read_text().splitlines():
        if line.startswith(prefix):
            return line.split("  #", 1)[0].strip()
    raise AssertionError(f"README has no line starting {prefix!r}")


class User:
    """A new user on this machine: a home of their own, a checkout of Dockyard, the CLI at .venv/bin."""

    def __init__(self, tmp_path: Path, sandbox: Sandbox, system: str) -> None:
        self.home = tmp_path / "home"
        self.checkout = tmp_path / "checkout"
        self.sandbox = sandbox
        self.system = system
        self.home.mkdir()
        (self.checkout / ".venv" / "bin").mkdir(parents=True)
        (self.checkout / ".venv" / "bin" / "dockyard").symlink_to(DOCKYARD)
        shutil.copytree(ROOT / "examples", self.checkout / "examples")
        dockerfile = self.checkout / "examples" / "hello" / "Dockerfile"
        dockerfile.write_text(dockerfile.read_text().replace(SANDBOX_REGISTRY, sandbox.registry))
        self.env: dict[str, str] = {"HOME": str(self.home)}

    def ours(self, text: str) -> str:
        return text.replace(SANDBOX_REGISTRY, self.sandbox.registry).replace("shop", self.system)

    def sh(self, script: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-euo", "pipefail", "-c", self.ours(script)],
            cwd=self.checkout,
            env={**os.environ, "COLUMNS": "200", **self.env},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )


@pytest.fixture
async def user(
    tmp_path: Path, sandbox: Sandbox, run_dir: Path, kube: KubeCluster, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[User]:
    system = f"f{uuid.uuid4().hex[:8]}"
    new = User(tmp_path, sandbox, system)
    monkeypatch.setenv("HOME", str(new.home))
    roots = with_local_sources(Settings(build_source_roots=[])).build_source_roots  # what `dockyard up` allows
    env = process_env(
        f"sqlite+aiosqlite:///{tmp_path / 'dockyard.db'}",
        tmp_path / "state",
        HOME=str(new.home),
        DOCKYARD_BUILD_DIR=str(run_dir / "builds"),
        DOCKYARD_BUILD_SOURCE_ROOTS=",".join(roots),
    )
    with server_process(env, tmp_path / "server.log") as server:
        new.env.update(
            DOCKYARD_SERVER=server.url, DOCKYARD_TOKEN=ADMIN_TOKEN, DOCKYARD_CLI_CONFIG=str(tmp_path / "cli.yaml")
        )
        run(new.env, "cluster", "register", "local", "--kubeconfig", str(sandbox.kubeconfig))  # `dockyard up` does
        yield new
    await kube.delete("v1", "Namespace", system)


def test_the_readmes_first_build_works_as_written(user: User) -> None:
    setup = "\n".join(
        readme_line(f".venv/bin/dockyard {command}") for command in ("system create", "app create", "group create")
    )
    done = user.sh(setup)
    assert done.returncode == 0, done.stdout + done.stderr

    first = user.sh(readme_block("first-build"))
    assert first.returncode == 0, first.stdout + first.stderr
    assert f"image {user.sandbox.registry}/{user.system}/web@sha256:" in first.stdout
    build_id = re.search(r"^build (\S+) of ", first.stdout, re.M)
    assert build_id, first.stdout

    again = user.sh(readme_line(".venv/bin/dockyard build start shop/web --branch main"))
    assert again.returncode == 0, again.stdout + again.stderr
    builds = json.loads(run(user.env, "build", "list", f"{user.system}/web", "-o", "json").stdout)
    assert [b["status"] for b in builds] == ["succeeded", "succeeded"]
    assert builds[0]["reused_from"] == build_id.group(1)  # the same commit: its image again

    deploy = user.sh(
        readme_line(".venv/bin/dockyard deploy shop/web/prod --build").replace("BUILD_ID", build_id.group(1))
    )
    assert deploy.returncode == 0, deploy.stdout + deploy.stderr


REFUSED = (
    "file://{tmp}/elsewhere",  # a git repository outside the sources directory
    "file://{home}/.local/share/dockyard/sources/../../../../elsewhere",
    "file://{home}/.local/share/dockyard/sources/link",  # a symlink in it leading out
    "http://127.0.0.1:5000/x.git",
    "http://169.254.169.254/x.git",
    "http://10.96.0.1/x.git",
)


def test_everything_else_stays_refused(user: User, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    subprocess.run(["git", "init", "-q", str(elsewhere)], check=True)
    (user.home / ".local" / "share" / "dockyard" / "sources" / "link").symlink_to(elsewhere)
    run(user.env, "system", "create", user.system)
    run(user.env, "app", "create", f"{user.system}/web", "--repository", f"{user.sandbox.registry}/{user.system}/web")
    for source in REFUSED:
        url = source.format(tmp=tmp_path, home=user.home)
        refused = run(user.env, "build", "start", f"{user.system}/web", "--source", url, "--branch", "main", ok=False)
        assert refused.returncode == 1, url
        assert "source" in refused.stderr, (url, refused.stderr)
    assert json.loads(run(user.env, "build", "list", f"{user.system}/web", "-o", "json").stdout) == []
