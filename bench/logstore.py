"""VictoriaLogs alone: ingest through Dockyard's adapter, searches as Dockyard makes them (``bench.logs --store N``).

Starts the sandbox's VictoriaLogs binary (built by ``sandbox/binaries.py``) on a free loopback port
with its data in a temporary directory; writes N shipper records (1,000 instances in 10 groups, times
spread over the last hour, 1 line in 50 an ERROR, 1 in 10,000 holding a rare text); then runs each
search 50 times (after a flush) and prints p50/p99, the store's resident memory and its disk use per
stored line. Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import random
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from dockyard.adapters.logstore import VictoriaLogs
from dockyard.domain.logs import NS, LogLine, Mark
from dockyard.domain.logsearch import STREAM_FIELDS, Search, logsql, record
from dockyard.domain.model import GroupPath
from dockyard.sandbox.binaries import ensure_victoria_logs
from dockyard.sandbox.layout import Layout, Ports
from dockyard.sandbox.logstore import argv

GROUPS = [GroupPath("bench", f"app{g}", "prod") for g in range(10)]
INSTANCES = 1000
BATCH = 5000
RUNS = 50
WORDS = ["GET", "POST", "/api/orders", "/healthz", "200", "404", "500", "took", "ms", "user", "cart", "pay"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _records(count: int, now: int) -> list[list[dict[str, str]]]:
    rng = random.Random(1)
    marks: dict[int, Mark] = {}
    batches: list[list[dict[str, str]]] = []
    batch: list[dict[str, str]] = []
    start = now - 3600 * NS
    for n in range(count):
        k = rng.randrange(INSTANCES)
        group = GROUPS[k % len(GROUPS)]
        at = start + n * (3600 * NS // count)
        text = " ".join(rng.choice(WORDS) for _ in range(8)) + f" req={n}"
        if n % 50 == 0:
            text = "ERROR " + text
        if n % 10_000 == 7:
            text += " needle-7f3a"
        mark = marks.get(k)
        mark = mark.after(at) if mark else Mark(at, 1)
        marks[k] = mark
        line = LogLine(at, "local", f"{group.app}-prod-{k:04d}", str(1 + k % 3), text)
        batch.append(record(line, group, mark=mark))
        if len(batch) == BATCH:
            batches.append(batch)
            batch = []
    if batch:
        batches.append(batch)
    return batches


async def run(count: int) -> None:
    binary = ensure_victoria_logs()
    root = Path(tempfile.mkdtemp(prefix="dockyard-bench-logs-"))
    ports = dataclasses.replace(Ports(), logs=_free_port())
    process = subprocess.Popen(argv(Layout(root), ports, binary), stdout=subprocess.DEVNULL)  # noqa: ASYNC220
    store = VictoriaLogs(f"http://127.0.0.1:{ports.logs}", stream_fields=STREAM_FIELDS, timeout=120.0)
    try:
        while not await store.ready():
            await asyncio.sleep(0.1)
        now = time.time_ns()
        made = time.perf_counter()
        batches = _records(count, now)
        made = time.perf_counter() - made
        started = time.perf_counter()
        for batch in batches:
            await store.insert(batch)
        await store.flush()
        took = time.perf_counter() - started
        unit = os.path.basename(str(binary.parent))
        print(f"VictoriaLogs {unit}, {count:,} lines, {INSTANCES} instances\n")
        print(
            f"ingest through the adapter (batches of {BATCH:,}, one connection): {count / took:,.0f} lines/s "
            f"({took:.1f} s; making the records in Python: {count / made:,.0f} lines/s)\n"
        )
        g = GROUPS[3]
        searches = {
            "a word in one group (newest 1,000)": Search(g, text="/api/orders"),
            "a rare text in one group": Search(g, text="needle-7f3a"),
            "level error, one group": Search(g, levels=frozenset({"error"})),
            "one instance, newest 100": Search(g, instances=frozenset({"app3-prod-0003"}), limit=100),
            "a word, last 5 minutes": Search(g, text="pay", since=now - 300 * NS),
            "a text no line has": Search(g, text='x" | stats count() "nowhere'),
        }
        print("| search | p50 ms | p99 ms | lines |")
        print("|---|---|---|---|")
        for name, wanted in searches.items():
            times, found = [], 0
            for _ in range(RUNS):
                t = time.perf_counter()
                rows = await store.query(logsql(wanted))
                times.append((time.perf_counter() - t) * 1000)
                found = len(rows)
            times.sort()
            p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
            print(f"| {name} | {statistics.median(times):.1f} | {p99:.1f} | {found:,} |")
        await asyncio.sleep(1)
        rss, disk = _rss_kib(process.pid) * 1024, _du(root)
        print(
            f"\nthe store after it: resident memory {rss / 2**20:.0f} MiB ({rss / count:.1f} bytes per line), "
            f"disk {disk / 2**20:.1f} MiB ({disk / count:.1f} bytes per line)"
        )
    finally:
        await store.aclose()
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)
