"""Build throughput: N builds of a small context through Dockyard vs the same steps by hand, same run.

    .venv/bin/python -m bench.build_throughput --builds 10

Set up in a temporary directory: a distribution registry (Debian's docker-registry) on a free loopback
port, the sandbox's busybox base image pushed to it, a git repository with N commits (a Dockerfile
``FROM`` the base with a ``RUN`` step, each commit changing a file, so every build is a real one).

- **by hand**: for each commit, ``git clone`` + ``git checkout``, ``buildah bud`` (vfs, chroot) and
  ``buildah push --digestfile`` — the same commands Dockyard runs, sequentially, timed end to end; the
  bud + push part is also reported alone;
- **Dockyard**: an in-process server (SQLite, build concurrency 1) given the N builds through the API
  at once; timed from the first POST until the last build has succeeded.

Both sides use their own buildah storage with the base image already pulled (a warm-up build each).
Prints a Markdown table for docs/benchmarks.md. Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from dockyard import bootstrap
from dockyard.api.app import create_app
from dockyard.sandbox import processes
from dockyard.sandbox.base_image import base_image, ensure_base_image, registry_address, storage_flags
from dockyard.sandbox.components import REGISTRY_BINARY, write_configs
from dockyard.sandbox.layout import Layout, Ports
from dockyard.settings import Settings

TOKEN = "dy_" + "t" * 40
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
GIT_ENV = {"GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@x", "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@x"}


def _run(argv: list[str], cwd: Path | None = None) -> str:
    env = {**os.environ, **GIT_ENV}
    return subprocess.run(argv, cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout.strip()


def _repo(root: Path, base: str, n: int) -> tuple[Path, list[str]]:
    repo = root / "src"
    repo.mkdir()
    _run(["git", "init", "-q", "-b", "main"], repo)
    (repo / "Dockerfile").write_text(f"FROM {base}\nCOPY n /n\nRUN cat /n && echo built > /built\n")
    commits = []
    for i in range(n + 2):  # two warm-ups
        (repo / "n").write_text(f"{i}\n")
        _run(["git", "add", "-A"], repo)
        _run(["git", "commit", "-q", "-m", str(i)], repo)
        commits.append(_run(["git", "rev-parse", "HEAD"], repo))
    return repo, commits


def _by_hand(root: Path, repo: Path, commit: str, ref: str) -> tuple[float, float]:
    """One build as a person would run it; (whole, bud + push only) in seconds."""
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(dir=root))
    _run(["git", "clone", "-q", "--no-checkout", str(repo), str(work / "src")])
    _run(["git", "checkout", "-q", "--detach", commit], work / "src")
    flags = storage_flags(root / "hand-buildah")
    build_started = time.perf_counter()
    _run(
        ["buildah", *flags, "bud", "--isolation", "chroot", "--layers=false", "--tls-verify=false", "-t", ref, "."],
        work / "src",
    )
    _run(
        ["buildah", *flags, "push", "--tls-verify=false", "--digestfile", str(work / "digest"), ref, f"docker://{ref}"]
    )
    ended = time.perf_counter()
    _run(["buildah", *flags, "rmi", "-f", ref])
    shutil.rmtree(work)
    return ended - started, ended - build_started


def _settings(root: Path, repo: Path, n: int) -> Settings:
    return Settings(
        database_url=f"sqlite+aiosqlite:///{root / f'dockyard-{n}.db'}",
        admin_token=TOKEN,
        admin_token_file=root / "admin-token",
        admin_password_file=root / "admin-password",
        secret_key_file=root / "secret-key",
        build_dir=root / "dockyard-builds",
        build_source_roots=[str(repo.parent)],
        build_concurrency=1,
    )


async def _app(http: httpx.AsyncClient, registry: str) -> None:
    assert (await http.post("/api/v1/systems", json={"name": "bench"})).status_code == 201
    body = {"name": "web", "repository": f"{registry}/bench/web"}
    assert (await http.post("/api/v1/systems/bench/apps", json=body)).status_code == 201


async def _dockyard(root: Path, repo: Path, registry: str, commits: list[str], n: int) -> tuple[float, list[float]]:
    app = create_app(bootstrap.server(_settings(root, repo, n)))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://d", headers=ADMIN) as http:
            await _app(http, registry)
            await _build_all(http, repo, commits[:1])  # warm-up: the base image into Dockyard's storage
            started = time.perf_counter()
            durations = await _build_all(http, repo, commits[1:])
            return time.perf_counter() - started, durations


async def _build_all(http: httpx.AsyncClient, repo: Path, commits: list[str]) -> list[float]:
    ids = []
    for sha in commits:
        made = await http.post(
            "/api/v1/systems/bench/apps/web/builds", json={"source": f"file://{repo}", "commit": sha}
        )
        assert made.status_code == 202, made.text
        ids.append(made.json()["id"])
    # Builds run one at a time in order: wait for the last one (one light GET every 0.25 s, so the
    # bench's own polling takes next to nothing from the server), then read them all.
    last = f"/api/v1/systems/bench/apps/web/builds/{ids[-1]}"
    while (await http.get(last)).json()["status"] not in ("succeeded", "failed", "cancelled"):
        await asyncio.sleep(0.25)
    durations = []
    for build_id in ids:
        got = (await http.get(f"/api/v1/systems/bench/apps/web/builds/{build_id}")).json()
        assert got["status"] == "succeeded", got
        durations.append(got["duration_seconds"])
    return durations


async def _paired(root: Path, repo: Path, registry: str, commits: list[str]) -> list[tuple[float, float]]:
    """One build by hand, then the same commit through Dockyard (POST → succeeded), commit after
    commit: each pair meets about the same load on a shared machine."""
    app = create_app(bootstrap.server(_settings(root, repo, 99)))
    pairs = []
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://d", headers=ADMIN) as http:
            await _app(http, registry)
            for sha in commits:
                hand, _ = await asyncio.to_thread(_by_hand, root, repo, sha, f"{registry}/hand/web:p-{sha[:12]}")
                started = time.perf_counter()
                body = {"source": f"file://{repo}", "commit": sha, "force": True}
                made = (await http.post("/api/v1/systems/bench/apps/web/builds", json=body)).json()
                path = f"/api/v1/systems/bench/apps/web/builds/{made['id']}"
                while (got := (await http.get(path)).json())["status"] not in ("succeeded", "failed"):
                    await asyncio.sleep(0.05)
                assert got["status"] == "succeeded", got
                pairs.append((hand, time.perf_counter() - started))
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--builds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of each side")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="dy-bench-builds-"))
    layout = Layout(root / "sandbox")
    ports = Ports.pick_free()
    layout.make_dirs()
    write_configs(layout, ports)
    registry_argv = [REGISTRY_BINARY, "serve", str(layout.registry_config)]
    processes.start(registry_argv, pid_file=layout.pid_file("registry"), log_file=layout.log("registry"))
    hand: list[tuple[float, float]] = []
    hand_totals: list[float] = []
    walls: list[float] = []
    durations: list[float] = []
    try:
        deadline = time.monotonic() + 30
        while not processes.port_in_use(ports.registry) and time.monotonic() < deadline:
            time.sleep(0.1)
        ensure_base_image(layout, ports)
        registry = registry_address(ports)
        repo, commits = _repo(root, base_image(ports), args.builds)
        _by_hand(root, repo, commits[0], f"{registry}/hand/web:warm")
        for round_ in range(args.rounds):
            started = time.perf_counter()
            hand += [_by_hand(root, repo, c, f"{registry}/hand/web:{c[:12]}") for c in commits[2:]]
            hand_totals.append(time.perf_counter() - started)
            wall, took = asyncio.run(_dockyard(root, repo, registry, commits[1:], round_))
            walls.append(wall)
            durations += took
            print(f"round {round_ + 1}: by hand {hand_totals[-1]:.2f} s, Dockyard {wall:.2f} s", flush=True)
        pairs = asyncio.run(_paired(root, repo, registry, commits[2:] * args.rounds))
    finally:
        processes.stop(layout.pid_file("registry"), marker=str(layout.root))
        shutil.rmtree(root, ignore_errors=True)
    _report(args.builds, args.rounds, hand, hand_totals, walls, durations)
    ratios = sorted(d / h for h, d in pairs)
    print(f"\n| {len(pairs)} paired builds (by hand, then Dockyard, same commit) | by hand | Dockyard |")
    print("|---|---|---|")
    hand_p50, dockyard_p50 = statistics.median(h for h, _ in pairs), statistics.median(d for _, d in pairs)
    print(f"| per build p50 | {hand_p50:.2f} s | {dockyard_p50:.2f} s |")
    print(f"| sum | {sum(h for h, _ in pairs):.2f} s | {sum(d for _, d in pairs):.2f} s |")
    print(
        f"\nDockyard / by hand per pair: median {(statistics.median(ratios) - 1) * 100:+.1f} %, "
        f"quartiles {(ratios[len(ratios) // 4] - 1) * 100:+.1f} % / {(ratios[3 * len(ratios) // 4] - 1) * 100:+.1f} %; "
        f"load at the end {os.getloadavg()[0]:.1f}"
    )


def _report(
    n: int,
    rounds: int,
    hand: list[tuple[float, float]],
    hand_totals: list[float],
    walls: list[float],
    took: list[float],
) -> None:
    med = statistics.median
    when = time.strftime("%Y-%m-%d")
    print(f"\n{n} builds x {rounds} rounds, Python {platform.python_version()}, {os.cpu_count()} cores, {when}\n")
    print(f"| {n} builds | total, median round | per build p50 | per build max |")
    print("|---|---|---|---|")
    whole, bud_push = [h[0] for h in hand], [h[1] for h in hand]
    print(
        f"| by hand: clone + checkout + bud + push (+ rmi) | {med(hand_totals):.2f} s | {med(whole):.2f} s | "
        f"{max(whole):.2f} s |"
    )
    print(f"| by hand: bud + push only | - | {med(bud_push):.2f} s | {max(bud_push):.2f} s |")
    print(
        f"| Dockyard (API: first POST → last succeeded) | {med(walls):.2f} s | {med(took):.2f} s | {max(took):.2f} s |"
    )
    print(f"\nDockyard vs by hand, median round: {(med(walls) / med(hand_totals) - 1) * 100:+.1f} %")


if __name__ == "__main__":
    main()
