"""The CLI's start-up: `dockyard` commands vs `kubectl` commands, wall time, same run.

    .venv/bin/python -m bench.cli_startup --runs 30

A fresh sandbox (``--nodes`` nodes) and a fresh Dockyard server (SQLite, its own state directory) in a
temporary directory on free ports, with ``--systems`` systems (so `system list` prints a table about as
long as `kubectl get ns`). Then, ``--runs`` times, round-robin so that every command sees the same
machine load, each of these as a new process, its output to a pipe:

- ``python -c pass``: the interpreter alone, the floor of any Python CLI;
- ``python -c "import dockyard.cli.main"``: what every `dockyard` command imports first;
- ``dockyard --help`` and ``kubectl --help``;
- ``dockyard system list`` (to the server, with a token from the environment) and
  ``kubectl get ns`` (to the sandbox's apiserver, with its admin kubeconfig);
- and, from the bench process itself, the request `system list` sends (a new connection each time):
  what the server takes, the part of `system list` that is not start-up.

Two warm-up rounds are not counted (disk cache, kubectl's discovery cache). Prints p50 / p90 in
milliseconds and the ratios the goals are about, as Markdown for docs/benchmarks.md. Not a test:
nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.deploy_throughput import DockyardServer, load, stop_on_sigterm
from dockyard.sandbox import cluster
from dockyard.sandbox.binaries import cached_binaries
from dockyard.sandbox.layout import Layout, Ports
from dockyard.sandbox.topology import default_topology

WARM_UP = 2


def p50_p90(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, math.ceil(len(ordered) * 0.9) - 1)]


def timed(argv: list[str], env: dict[str, str]) -> float:
    """Milliseconds from starting ``argv`` to its exit; a failed command stops the bench."""
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, check=False)
    took = (time.perf_counter() - started) * 1000
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.decode()[-500:]}")
    return took


def machine() -> str:
    memory = next(line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
    gib = int(memory.split()[1]) / 1024**2
    return f"{os.cpu_count()} cores, {gib:.0f} GiB, {platform.platform()}, Python {platform.python_version()}"


def commands(kubectl: Path, kubeconfig: Path) -> dict[str, list[str]]:
    python = sys.executable
    dockyard = str(Path(python).parent / "dockyard")
    return {
        "python -c pass": [python, "-c", "pass"],
        "python -c 'import dockyard.cli.main'": [python, "-c", "import dockyard.cli.main"],
        "dockyard --help": [dockyard, "--help"],
        "kubectl --help": [str(kubectl), "--help"],
        "dockyard system list": [dockyard, "system", "list"],
        "kubectl get ns": [str(kubectl), f"--kubeconfig={kubeconfig}", "get", "ns"],
    }


SERVER_SIDE = "the same GET /api/v1/systems from the bench process (new connection)"


def answered(server: DockyardServer) -> float:
    """Milliseconds for the server to answer `system list`'s request on a new connection: the part of
    the command that is not the CLI's start-up."""
    started = time.perf_counter()
    with httpx.Client(base_url=server.url, headers=server.headers) as api:
        api.get("/api/v1/systems").raise_for_status()
    return (time.perf_counter() - started) * 1000


def run(names: dict[str, list[str]], env: dict[str, str], server: DockyardServer, runs: int) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {name: [] for name in [*names, SERVER_SIDE]}
    for i in range(WARM_UP + runs):
        for name, argv in names.items():
            took = timed(argv, env)
            if i >= WARM_UP:
                samples[name].append(took)
        took = answered(server)
        if i >= WARM_UP:
            samples[SERVER_SIDE].append(took)
    return samples


def report(samples: dict[str, list[float]], args: argparse.Namespace, loads: tuple[str, str]) -> None:
    print(f"machine: {machine()}; load before {loads[0]}, after {loads[1]}")
    print(f"{args.runs} runs of each, round-robin, output to a pipe; {args.systems} systems, {args.nodes} nodes\n")
    print("| command | p50 ms | p90 ms |\n|---|---|---|")
    for name, values in samples.items():
        p50, p90 = p50_p90(values)
        label = name if name == SERVER_SIDE else f"`{name}`"
        print(f"| {label} | {p50:.0f} | {p90:.0f} |")
    (d50, d90), (k50, k90) = p50_p90(samples["dockyard system list"]), p50_p90(samples["kubectl get ns"])
    h50, h90 = p50_p90(samples["dockyard --help"])
    print(f"\n`dockyard system list` / `kubectl get ns`: {d50 / k50:.2f}× at p50, {d90 / k90:.2f}× at p90 (goal ≤ 2×)")
    print(f"`dockyard --help`: {h50 / 1000:.2f} s at p50, {h90 / 1000:.2f} s at p90 (goal ≤ 0.3 s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--nodes", type=int, default=2)
    parser.add_argument("--systems", type=int, default=5)
    args = parser.parse_args()
    stop_on_sigterm()
    found = cached_binaries()
    if found is None:
        sys.exit("the sandbox binaries are not built: run `dockyard sandbox build` first")
    kubectl = found.kubectl
    root = Path(tempfile.mkdtemp(prefix="dockyard-bench-"))
    layout = Layout(root / "sandbox")
    (root / "server").mkdir()
    server = DockyardServer(root / "server")
    try:
        cluster.up(layout, ports=Ports.pick_free(), topology=default_topology(args.nodes), wait_timeout=600)
        server.start()
        with server.client() as api:
            for i in range(args.systems):
                api.post("/systems", json={"name": f"bench-{i}"}).raise_for_status()
        env = {
            **os.environ,
            "DOCKYARD_SERVER": server.url,
            "DOCKYARD_TOKEN": server.token,
            "DOCKYARD_CLI_CONFIG": str(root / "no-cli.yaml"),
            "HOME": str(root),  # kubectl's discovery cache and config: this run's own
        }
        before = load()
        samples = run(commands(kubectl, layout.kubeconfig), env, server, args.runs)
        after = load()
    except BaseException:
        if server.log.exists():
            print("".join(server.log.read_text().splitlines(keepends=True)[-30:]), file=sys.stderr)
        raise
    finally:
        server.stop()
        cluster.down(layout)
        shutil.rmtree(root, ignore_errors=True)
    report(samples, args, (before, after))


if __name__ == "__main__":
    main()
