"""What Dockyard adds to a group chart, without a sandbox: a canned Prometheus, a Dockyard server, same run.

    .venv/bin/python -m bench.metrics_overhead --series 20 --points 121 --requests 500
    .venv/bin/python -m bench.metrics_overhead --baseline-src /tmp/before/src   # the code before, same run

A stand-in Prometheus (a child process answering ``/api/v1/query_range`` with the same matrix every
time: ``--series`` per-instance series of ``--points`` points, labelled as the roll-up rules label
them) and a ``dockyard server`` child process on a fresh SQLite database whose model holds the group.
The group chart (per instance, the last hour, 30 s step) is read through Dockyard ``--requests`` times
over one keep-alive connection, and the same query straight from the stand-in as often, interleaved in
rounds so that the machine's other work falls on both alike; each server's CPU time (utime + stime)
per request is reported too, which the machine's load does not change. With ``--baseline-src`` a second server
runs the Dockyard source found there (``PYTHONPATH``) on the same database and is measured in the same
rounds. Prints a Markdown table. Not a test: nothing here asserts a time.

The real Prometheus, at scale, is in ``bench/metrics_scale.py``; this bench isolates Dockyard's part
(authorization, database reads, building the query, the HTTP client, decoding and encoding the matrix).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from dockyard import bootstrap
from dockyard.domain.access import Principal
from dockyard.domain.clusters import IN_CLUSTER, Cluster
from dockyard.domain.model import AppPath
from dockyard.services import applications
from dockyard.settings import Settings

SYSTEM, APP, GROUP = "bench", "web", "g0"
ADMIN = Principal("admin", admin=True)


def matrix(series: int, points: int, end: float = 1_780_000_000.0) -> bytes:
    """A ``query_range`` answer as Prometheus gives it for the instance level of one group."""
    result = []
    for i in range(series):
        labels = {
            "__name__": "instance:container_cpu_usage_seconds:rate1m",
            "app": APP,
            "cluster": "local",
            "group": GROUP,
            "idc": "a",
            "namespace": SYSTEM,
            "pod": f"web-{GROUP}-7d9f8c6b5-{i:05d}",
            "system": SYSTEM,
            "version": "1",
        }
        values = [[end - 30 * (points - 1 - p), f"{0.1 + (i * 7 + p) % 13 / 1000:.12g}"] for p in range(points)]
        result.append({"metric": labels, "values": values})
    return json.dumps({"status": "success", "data": {"resultType": "matrix", "result": result}}).encode()


async def _serve_fake(port: int, body: bytes) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await reader.readuntil(b"\r\n\r\n")
                if not request:
                    break
                writer.write(head + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def _model(database_url: str, root: Path) -> None:
    settings = Settings(database_url=database_url, secret_key_file=root / "key")
    bootstrap.ensure_secret_key(settings)
    platform = await bootstrap.start(settings)
    try:
        async with platform.db.unit_of_work() as uow:
            await uow.clusters.upsert(Cluster("local", IN_CLUSTER, kubeconfig_form="in-cluster"))
        await applications.create_system(platform, ADMIN, name=SYSTEM)
        await applications.create_application(platform, ADMIN, system=SYSTEM, name=APP, repository="r.local/web")
        group = await applications.create_group(
            platform, ADMIN, app=AppPath(SYSTEM, APP), name=GROUP, environment="prod", cluster="local"
        )
        del group
    finally:
        await platform.stop()


def _server(root: Path, name: str, env: dict[str, str], src: str | None) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**env, "PYTHONPATH": f"{src}:{Path.cwd()}" if src else os.environ.get("PYTHONPATH", "")}
    executable = Path(sys.executable).parent / "dockyard"
    log = (root / f"{name}.log").open("wb")
    process = subprocess.Popen([str(executable), "server", "--port", str(port)], env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit(f"{name} did not start; see {root / name}.log")


def _cpu_ms(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


async def _measure(targets: dict[str, tuple[str, str, dict[str, str]]], rounds: int) -> dict[str, list[float]]:
    clients = {name: httpx.AsyncClient(base_url=url, timeout=30.0) for name, (url, _, _) in targets.items()}
    samples: dict[str, list[float]] = {name: [] for name in targets}
    try:
        for round_ in range(rounds + 20):  # 20 rounds of warm-up, not counted
            for name, (_, path, headers) in targets.items():
                end = time.time()
                params = (
                    {"query": "x", "start": f"{end - 3600:.3f}", "end": f"{end:.3f}", "step": "30"}
                    if name == "direct"
                    else {"metric": "cpu", "level": "instance", "range": "1h", "step": "30s"}
                )
                started = time.perf_counter()
                answer = await clients[name].get(path, params=params, headers=headers)
                answer.read()
                took = (time.perf_counter() - started) * 1000
                assert answer.status_code == 200, answer.text[:300]
                if round_ >= 20:
                    samples[name].append(took)
    finally:
        for client in clients.values():
            await client.aclose()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--series", type=int, default=20)
    parser.add_argument("--points", type=int, default=121)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--baseline-src", help="a Dockyard source tree (its src/) to measure in the same run")
    parser.add_argument("--serve-fake", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_fake:
        asyncio.run(_serve_fake(args.serve_fake, matrix(args.series, args.points)))
        return
    root = Path(tempfile.mkdtemp(prefix="dockyard-metrics-overhead-"))
    os.environ["DOCKYARD_STATE_DIR"] = str(root / "state")  # nothing of this run in the user's state
    processes: list[subprocess.Popen[bytes]] = []
    try:
        fake_port = _free_port()
        fake = [sys.executable, "-m", "bench.metrics_overhead", "--serve-fake", str(fake_port)]
        processes.append(subprocess.Popen([*fake, "--series", str(args.series), "--points", str(args.points)]))
        database_url = f"sqlite+aiosqlite:///{root / 'd.db'}"
        asyncio.run(_model(database_url, root))
        token = "dy_" + secrets.token_hex(20)
        env = {
            **os.environ,
            "DOCKYARD_DATABASE_URL": database_url,
            "DOCKYARD_ADMIN_TOKEN": token,
            "DOCKYARD_STATE_DIR": str(root / "state"),
            "DOCKYARD_CONFIG": str(root / "no-config.yaml"),
            "DOCKYARD_SECRET_KEY_FILE": str(root / "key"),
            "DOCKYARD_PROMETHEUS_URL": f"http://127.0.0.1:{fake_port}",
            "DOCKYARD_METRICS_TOKEN": "dym_" + "c" * 40,
            "DOCKYARD_EXECUTOR": "false",
        }
        path = f"/api/v1/systems/{SYSTEM}/apps/{APP}/groups/{GROUP}/metrics"
        auth = {"Authorization": f"Bearer {token}"}
        targets: dict[str, tuple[str, str, dict[str, str]]] = {
            "direct": (f"http://127.0.0.1:{fake_port}", "/api/v1/query_range", {})
        }
        process, url = _server(root, "dockyard", env, None)
        processes.append(process)
        targets["dockyard"] = (url, path, auth)
        if args.baseline_src:
            process, url = _server(root, "baseline", env, args.baseline_src)
            processes.append(process)
            targets["baseline"] = (url, path, auth)
        pids = {"dockyard": processes[1].pid, "baseline": processes[-1].pid if args.baseline_src else 0}
        idle = {name: _cpu_ms(pid) for name, pid in pids.items() if pid}
        time.sleep(5.0)
        idle = {name: (_cpu_ms(pids[name]) - used) / 5.0 for name, used in idle.items()}  # ms per s, idle
        print(f"idle CPU, ms per second: {idle}", flush=True)
        cpu = {name: _cpu_ms(pid) for name, pid in pids.items() if pid}
        samples = asyncio.run(_measure(targets, args.requests))
        cpu = {name: (_cpu_ms(pids[name]) - used) / (args.requests + 20) for name, used in cpu.items()}
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)
    direct = samples["direct"]
    shape = f"{args.series} series × {args.points} points, {args.requests} requests each"
    print(f"group chart, {shape}, {os.cpu_count()} cores:\n")
    print("| path | p50 | p99 | added p50 / p99 | server CPU per request |\n|---|---|---|---|---|")
    for name, taken in samples.items():
        p50, p99 = statistics.median(taken), _pct(taken, 0.99)
        added = (
            "—" if name == "direct" else f"{p50 - statistics.median(direct):.2f} / {p99 - _pct(direct, 0.99):.2f} ms"
        )
        used = f"{cpu[name]:.2f} ms" if name in cpu else "—"
        print(f"| {name} | {p50:.2f} ms | {p99:.2f} ms | {added} | {used} |")


if __name__ == "__main__":
    main()
