"""Builds on this machine: a git repository made by the test, buildah (vfs, chroot) building FROM the
sandbox's busybox base image, the sandbox registry, and the group's pods pinned to the digests.

KWOK pods never pull images: "deployed" means the pod specs carry the digest reference.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from dockyard.adapters.kube.client import KubeCluster
from dockyard.adapters.registry import Registry
from tests.integration.harness.cli import run
from tests.integration.harness.client import create_group, operation_ended, register_cluster
from tests.integration.harness.sandboxes import Sandbox, free_port
from tests.integration.harness.servers import (
    SHORT_LEASE,
    ServerProcess,
    in_process,
    process_env,
    server_process,
    settings,
)
from tests.integration.harness.tokens import ADMIN, ADMIN_TOKEN
from tests.integration.harness.waiting import Not, eventually, eventually_blocking

CANARY = "canary-Zq8wX3pL7vN2"


@dataclass
class Builds:
    http: httpx.AsyncClient
    system: str
    sandbox: Sandbox
    sources: Path

    @property
    def app(self) -> str:
        return f"/api/v1/systems/{self.system}/apps/web"

    @property
    def repository(self) -> str:
        return f"{self.sandbox.registry}/{self.system}/web"

    async def start(self, **body: Any) -> dict[str, Any]:
        response = await self.http.post(f"{self.app}/builds", json=body)
        assert response.status_code == 202, response.text
        return dict(response.json())

    async def until(self, build: dict[str, Any], *statuses: str, timeout: float = 180) -> dict[str, Any]:
        """The build once its status is one of ``statuses``."""
        path = f"/api/v1/systems/{self.system}/apps/{build['app']}/builds/{build['id']}"

        async def reached() -> dict[str, Any] | Not:
            got: dict[str, Any] = (await self.http.get(path)).json()
            return got if got["status"] in statuses else Not(got)

        return await eventually(reached, f"build {build['id']} to be {statuses}", timeout=timeout)

    async def log(self, build: dict[str, Any]) -> str:
        got = (await self.http.get(f"{self.app}/builds/{build['id']}/logs")).json()
        return "\n".join(line["line"] for line in got["lines"])

    async def operation(self, response: httpx.Response) -> dict[str, Any]:
        """The operation ``response`` accepted, once it has succeeded."""
        assert response.status_code == 202, response.text
        done = await operation_ended(self.http, response.json()["id"])
        assert done["status"] == "succeeded", done
        return done


def git(repo: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@x"}
    env["PATH"] = "/usr/bin:/bin"
    done = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def commit(repo: Path, files: dict[str, str], message: str) -> str:
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def new_repo(root: Path, name: str) -> Path:
    repo = root / name
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    return repo


@pytest.fixture
async def builds(
    sandbox: Sandbox, database_url: str, kube: KubeCluster, tmp_path: Path, run_dir: Path
) -> AsyncIterator[Builds]:
    sources = tmp_path / "sources"
    sources.mkdir()
    config = settings(
        database_url,
        tmp_path,
        build_dir=run_dir / "builds",  # shared by the tests: the base image is pulled once
        build_source_roots=[str(sources)],
        build_concurrency=4,
        build_timeout=300,
        registry_username="dockyard",
        registry_password=CANARY,
        git_password=CANARY,
    )
    system = f"b{uuid.uuid4().hex[:8]}"
    async with in_process(config, headers=ADMIN) as server:
        await register_cluster(server.http, sandbox)
        await create_group(server.http, system, repository=f"{sandbox.registry}/{system}/web")
        yield Builds(server.http, system, sandbox, sources)
    await kube.delete("v1", "Namespace", system)


async def _pod_images(kube: KubeCluster, system: str, want: set[str], timeout: float = 90) -> set[str]:
    async def running() -> set[str] | Not:
        pods = await kube.list("v1", "Pod", namespace=system, labels={"dockyard.io/group": "prod"})
        live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
        seen = {c["image"] for p in live for c in p["spec"]["containers"]}
        return seen if seen == want and live else Not(seen)

    return await eventually(running, f"the group's pods to run {want}", timeout=timeout)


async def test_commit_to_registry_to_group_and_a_gray_release(builds: Builds, kube: KubeCluster) -> None:
    repo = new_repo(builds.sources, "web")
    dockerfile = f"FROM {builds.sandbox.base_image}\nRUN echo {{}} > /version && cat /version\n"
    sha_a = commit(repo, {"Dockerfile": dockerfile.format("A")}, "A")

    a = await builds.until(await builds.start(source=f"file://{repo}", commit=sha_a), "succeeded", "failed")
    assert a["status"] == "succeeded", (a, await builds.log(a))
    assert (a["commit"], a["created_by"]) == (sha_a, "admin")
    assert a["image"] == f"{builds.repository}@{a['digest']}"
    assert a["digest"].startswith("sha256:")
    assert a["duration_seconds"] > 0
    assert a["finished_at"]
    log_a = await builds.log(a)
    assert "RUN echo A" in log_a
    assert "pushed" in log_a
    async with Registry(builds.sandbox.registry, plain_http=True) as registry:
        assert await registry.exists(f"{builds.system}/web", a["digest"])
        assert (await registry.manifest(f"{builds.system}/web", a["tag"])).digest == a["digest"]

    # Same commit again: the image is reused; force builds anew.
    again = await builds.until(await builds.start(commit=sha_a), "succeeded", "failed")  # source: the last one
    assert (again["status"], again["image"], again["reused_from"]) == ("succeeded", a["image"], a["id"])

    # The group deploys build A: its pods' specs carry the digest.
    deploy = {"spec": {"build": a["id"], "flavor": "small", "instances": 3}}
    await builds.operation(await builds.http.post(f"{builds.app}/groups/prod/deploy", json=deploy))
    assert await _pod_images(kube, builds.system, {a["image"]}) == {a["image"]}

    # Commit B, built with live logs (server-sent events), then released gray onto the group.
    sha_b = commit(repo, {"Dockerfile": dockerfile.format("B")}, "B")
    b = await builds.start(commit=sha_b)
    events = []
    async with builds.http.stream("GET", f"{builds.app}/builds/{b['id']}/logs", params={"follow": "true"}) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        async for line in stream.aiter_lines():
            events.append(line)
    assert any("RUN echo B" in e for e in events)
    assert events[-2].startswith('data: {"status": "succeeded"')
    b = await builds.until(b, "succeeded", "failed")
    assert b["status"] == "succeeded"
    assert b["digest"] != a["digest"]

    release = await builds.http.post(
        f"{builds.app}/groups/prod/releases", json={"changes": {"build": b["id"]}, "steps": ["gray 1", "100%"]}
    )
    assert release.status_code == 202, release.text
    done = await operation_ended(builds.http, release.json()["id"])
    assert done["status"] == "succeeded", done
    assert await _pod_images(kube, builds.system, {b["image"]}) == {b["image"]}

    # The images: both tags with their digests, size and versions; gc keeps what the last version uses.
    listed = {i["tag"]: i for i in (await builds.http.get(f"{builds.app}/images")).json()}
    assert listed[a["tag"]]["digest"] == a["digest"]
    assert listed[a["tag"]]["versions"] == ["prod/1"]
    assert listed[b["tag"]]["running"] == ["prod"]
    assert listed[b["tag"]]["size"] > 0
    dry = (await builds.http.post(f"{builds.app}/images/gc", json={"keep": 1, "dry_run": True})).json()
    assert (dry["deleted"], dry["kept"]) == ([a["digest"]], [b["digest"]])
    kept2 = (await builds.http.post(f"{builds.app}/images/gc", json={"keep": 2, "dry_run": True})).json()
    assert kept2["deleted"] == []  # version 1 is among the last 2: rollback keeps its image
    gone = (await builds.http.post(f"{builds.app}/images/gc", json={"keep": 1})).json()
    assert gone["deleted"] == [a["digest"]]
    # Rollback to version 1 now refuses: its image is really gone.
    refused = await builds.http.post(f"{builds.app}/groups/prod/rollback", json={"version": 1})
    assert refused.status_code == 409
    assert "gone from the registry" in refused.json()["message"]


async def test_failures_end_failed_with_a_reason_and_no_image(builds: Builds) -> None:
    repo = new_repo(builds.sources, "bad")
    base = builds.sandbox.base_image
    good = commit(repo, {"Dockerfile": f"FROM {base}\nRUN true\n"}, "good")
    failing_run = commit(repo, {"Dockerfile": f"FROM {base}\nRUN echo about to fail && false\n"}, "run fails")
    script = commit(repo, {"Dockerfile": f"FROM {base}\nRUN true\n", "build.sh": "echo legacy; exit 3\n"}, "build.sh")
    slow = commit(repo, {"Dockerfile": f"FROM {base}\nRUN sleep 60\n", "build.sh": "true\n"}, "slow")
    src = f"file://{repo}"

    started = {
        "bad commit": await builds.start(source=src, commit="0123456789abcdef0123456789abcdef01234567"),
        "missing Dockerfile": await builds.start(source=src, commit=good, dockerfile="nope/Dockerfile"),
        "failing RUN": await builds.start(source=src, commit=failing_run),
        "failing build.sh": await builds.start(source=src, commit=script),
        "timeout": await builds.start(source=src, commit=slow, timeout_seconds=8),
    }
    want = {
        "bad commit": "does not exist",
        "missing Dockerfile": "does not exist at this commit",
        "failing RUN": "build failed (exit code",
        "failing build.sh": "build.sh failed (exit code 3)",
        "timeout": "timed out after 8s",
    }
    for name, build in started.items():
        done = await builds.until(build, "succeeded", "failed", "cancelled")
        assert (done["status"], done["image"]) == ("failed", ""), (name, done)
        assert want[name] in done["reason"], (name, done["reason"])
    assert "about to fail" in await builds.log(started["failing RUN"])

    # Cancel mid-build: while its RUN sleeps.
    slow_build = await builds.start(source=src, commit=slow, force=True)
    await builds.until(slow_build, "building")
    await asyncio.sleep(2)  # let buildah get into the RUN step
    cancelled = await builds.http.post(f"{builds.app}/builds/{slow_build['id']}/cancel")
    assert cancelled.status_code == 200
    done = await builds.until(slow_build, "cancelled", "failed", "succeeded", timeout=30)
    assert (done["status"], done["image"]) == ("cancelled", "")
    assert (await builds.http.post(f"{builds.app}/builds/{slow_build['id']}/cancel")).status_code == 409

    # Registry down: an application whose repository is a loopback port nothing listens on.
    down = {"name": "down", "repository": f"127.0.0.1:{free_port()}/x/down"}
    assert (await builds.http.post(f"/api/v1/systems/{builds.system}/apps", json=down)).status_code == 201
    pushed = await builds.http.post(
        f"/api/v1/systems/{builds.system}/apps/down/builds", json={"source": src, "commit": good}
    )
    done = await builds.until(pushed.json(), "succeeded", "failed")
    assert done["status"] == "failed"
    assert "push failed" in done["reason"]
    assert done["image"] == ""

    async with Registry(builds.sandbox.registry, plain_http=True) as registry:
        assert await registry.tags(f"{builds.system}/web") == []  # no failed build left an image


async def test_untrusted_sources_and_paths_are_refused_and_audited(builds: Builds) -> None:
    (builds.sources / "escape").symlink_to("/etc")
    refused = {
        f"file://{builds.sources}/escape": "source",  # a symlink under the allowed root, leading out
        "http://127.0.0.1/repo.git": "source",
        "http://localhost:8080/x": "source",
        "http://2130706433/x": "source",  # 127.0.0.1 as an integer
        "http://169.254.169.254/latest/meta-data": "source",
        "http://10.96.0.10/repo.git": "source",  # the service network
        "http://[::1]/x": "source",
        "https://user:pw@example.com/x.git": "source",
        "file:///etc": "source",
        f"file://{builds.sources}/../x": "source",
        "ext::sh -c touch% /tmp/pwned": "source",
    }
    for url, field in refused.items():
        response = await builds.http.post(f"{builds.app}/builds", json={"source": url, "commit": "abc1234"})
        assert response.status_code == 422, (url, response.text)
        assert response.json()["details"]["field"] == field, url
    bad_path = await builds.http.post(
        f"{builds.app}/builds", json={"source": f"file://{builds.sources}/x", "commit": "abc1234", "dockerfile": "../D"}
    )
    assert bad_path.status_code == 422
    assert bad_path.json()["details"]["field"] == "dockerfile"
    trail = (await builds.http.get("/api/v1/audit", params={"system": builds.system, "limit": 100})).json()
    entries = trail["items"]
    refusals = [e for e in entries if e["status"] == 422 and e["action"] == "start_build"]
    assert len(refusals) == len(refused) + 1, entries

    # A Dockerfile that is a symlink out of the checkout: the build fails, nothing is read from outside.
    repo = new_repo(builds.sources, "link")
    (repo / "Dockerfile").symlink_to("/etc/hostname")
    sha = commit(repo, {"README": "x"}, "link")
    done = await builds.until(await builds.start(source=f"file://{repo}", commit=sha), "failed", "succeeded")
    assert done["status"] == "failed"
    assert "leads out of the repository" in done["reason"]


async def test_credentials_never_reach_the_logs(builds: Builds, database_url: str) -> None:
    repo = new_repo(builds.sources, "canary")
    # The build itself prints the canary (as a leaky tool would): the stored log has it redacted.
    files = {"Dockerfile": f"FROM {builds.sandbox.base_image}\nCOPY token /token\nRUN cat /token\n", "token": CANARY}
    sha = commit(repo, files, "canary")
    done = await builds.until(await builds.start(source=f"file://{repo}", commit=sha), "succeeded", "failed")
    assert done["status"] == "succeeded", done
    log = await builds.log(done)
    assert CANARY not in log
    assert "***" in log
    answers = (await builds.http.get(f"{builds.app}/builds")).text
    assert CANARY not in answers


@pytest.fixture
def cli(sandbox: Sandbox, tmp_path: Path, run_dir: Path) -> Iterator[dict[str, str]]:
    """A server process whose builds may come from ``tmp_path/sources``; the CLI user's environment."""
    env = process_env(
        f"sqlite+aiosqlite:///{tmp_path / 'dockyard.db'}",
        tmp_path / "state",
        DOCKYARD_BUILD_DIR=str(run_dir / "builds"),
        DOCKYARD_BUILD_SOURCE_ROOTS=str(tmp_path / "sources"),
    )
    with server_process(env, tmp_path / "server.log") as server:
        yield {
            "DOCKYARD_SERVER": server.url,
            "DOCKYARD_TOKEN": ADMIN_TOKEN,
            "DOCKYARD_CLI_CONFIG": str(tmp_path / "cli.yaml"),
            "HOME": str(tmp_path),
        }


def test_the_cli_builds_follows_deploys_and_lists_images(cli: dict[str, str], sandbox: Sandbox, tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "sources", "web")
    sha = commit(repo, {"Dockerfile": f"FROM {sandbox.base_image}\nRUN echo built-by-cli\n"}, "one")
    run(cli, "cluster", "register", "local", "--kubeconfig", str(sandbox.kubeconfig))
    system = f"c{uuid.uuid4().hex[:8]}"
    run(cli, "system", "create", system)
    run(cli, "app", "create", f"{system}/web", "--repository", f"{sandbox.registry}/{system}/web")
    run(cli, "group", "create", f"{system}/web/prod", "--env", "prod", "--cluster", "local")

    started = run(cli, "build", "start", f"{system}/web", "--source", f"file://{repo}", "--commit", sha, "--follow")
    assert "built-by-cli" in started.stdout
    assert f"image {sandbox.registry}/{system}/web@sha256:" in started.stdout
    build = json.loads(run(cli, "build", "list", f"{system}/web", "-o", "json").stdout)[0]
    assert (build["status"], build["commit"]) == ("succeeded", sha)
    assert "built-by-cli" in run(cli, "build", "logs", f"{system}/web", build["id"]).stdout
    assert build["digest"] in run(cli, "build", "show", f"{system}/web", build["id"]).stdout

    spec = tmp_path / "v1.yaml"
    spec.write_text(f"build: {build['id']}\nflavor: small\ninstances: 1\n")
    run(cli, "deploy", f"{system}/web/prod", "--spec", str(spec))
    listed = run(cli, "images", "list", f"{system}/web").stdout
    assert build["digest"] in listed
    assert "prod/1" in listed
    again = run(cli, "build", "cancel", f"{system}/web", build["id"], ok=False)
    assert again.returncode == 1
    assert len(again.stderr.strip().splitlines()) == 1
    gc = run(cli, "registry", "gc", f"{system}/web", "--keep", "1", "--dry-run").stdout
    assert gc.startswith("would delete 0 image(s), kept 1")
    # A failing build with --follow exits 1.
    bad = run(cli, "build", "start", f"{system}/web", "--commit", "0" * 40, "--follow", ok=False)
    assert bad.returncode == 1
    assert "failed" in bad.stdout


def _tools_running(marker: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if marker.encode() in (proc / "cmdline").read_bytes():
                    found.append(int(proc.name))
            except OSError:
                continue
    return found


@pytest.mark.both_databases  # the build runners' lease, and a build resumed by another process
def test_a_build_interrupted_by_a_crash_ends_failed(
    sandbox: Sandbox, database_url: str, tmp_path: Path, run_dir: Path
) -> None:
    sources = tmp_path / "sources"
    marker = f"dy-crash-{uuid.uuid4().hex[:8]}"
    repo = new_repo(sources, "slow")
    sha = commit(repo, {"Dockerfile": f'FROM {sandbox.base_image}\nRUN sh -c "sleep 120" {marker}\n'}, "slow")
    env = process_env(
        database_url,
        tmp_path / "state",
        DOCKYARD_BUILD_DIR=str(run_dir / "builds"),
        DOCKYARD_BUILD_SOURCE_ROOTS=str(sources),
        **SHORT_LEASE,
    )
    first = ServerProcess.start(env, tmp_path / "first.log")
    try:
        first.wait_ready()
        with httpx.Client(base_url=first.url, headers=ADMIN, timeout=30) as http:
            assert http.post("/api/v1/systems", json={"name": "crash"}).status_code == 201
            app = {"name": "web", "repository": f"{sandbox.registry}/crash/web"}
            assert http.post("/api/v1/systems/crash/apps", json=app).status_code == 201
            made = http.post("/api/v1/systems/crash/apps/web/builds", json={"source": f"file://{repo}", "commit": sha})
            build = f"/api/v1/systems/crash/apps/web/builds/{made.json()['id']}"
            eventually_blocking(
                lambda: _tools_running(marker) or Not(http.get(build).json()),
                "the build's RUN step under way",
                timeout=120,
            )
            assert http.get(build).json()["status"] == "building"
    finally:
        first.kill()  # kill -9: no chance to record anything
    eventually_blocking(lambda: not _tools_running(marker), "the build's tools to die with the server", timeout=30)

    with (
        server_process(env, tmp_path / "second.log", port=first.port) as second,
        httpx.Client(base_url=second.url, headers=ADMIN, timeout=30) as http,
    ):

        def ended() -> dict[str, Any] | Not:
            got: dict[str, Any] = http.get(build).json()
            return got if got["status"] != "building" else Not(got)

        # The dead server's lease (3 s) must expire first.
        got = eventually_blocking(ended, "the interrupted build to end", timeout=90, interval=0.5)
        assert got["status"] == "failed"
        assert got["reason"].startswith("interrupted")
        assert got["image"] == ""
