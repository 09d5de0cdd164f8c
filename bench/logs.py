"""What Dockyard's live-log merging costs per line, and the log store's ingest and search.

    .venv/bin/python -m bench.logs --lines 200000
    .venv/bin/python -m bench.logs --store 1000000      # VictoriaLogs: ingest, search p50/p99, bytes per line
    .venv/bin/python -m bench.logs --kwok 1000          # shipper: 1,000 KWOK instances into the store

``--store N`` starts the sandbox's VictoriaLogs binary alone (a temporary directory, a free port),
writes N lines of 1,000 instances of 10 groups through Dockyard's adapter (the shipper's records, in
batches of 5,000), then times searches as Dockyard's search makes them (``domain/logsearch.logsql``):
a word in one group, a rare text, a level, one instance, with and without a time range; and reports
the store's memory and disk per stored line. ``--kwok N`` is in ``bench/logship.py``'s docstring.

Pure, in-process (no cluster): for streams following 1, 20, 200 and 1,000 instances, each line goes
through what a followed stream does to it — the reorder buffer (push, then let go in time order), the
resume point (``Cursor.sent``), the text filter and the event id (``Cursor.encode``) — and a resumed
read's skip test (``Resumed.new``). Prints a Markdown table: lines/s on one core and the event id's
size. The follow latency end to end (a line written → in the stream, through a proxy that cuts it) is
measured by tests/integration/test_logs.py, which prints it. Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import random
import time

from dockyard.domain.logs import NS, Cursor, LogFilter, LogLine, Mark, Reorder, Resumed


def _lines(instances: int, count: int) -> list[LogLine]:
    rng = random.Random(instances)
    at = 1_800_000_000 * NS
    out = []
    for n in range(count):
        at += rng.choice([0, 1000, 50_000])
        out.append(LogLine(at, "local", f"web-prod-7d9f8c6b5-{rng.randrange(instances):05d}", "3", f"GET /x {n} 200"))
    return out


def _follow(lines: list[LogLine]) -> tuple[float, int]:
    buffer, cursor, wanted = Reorder(hold=0), Cursor(), LogFilter(text="200")
    size = 0
    started = time.perf_counter()
    for i, line in enumerate(lines):
        buffer.push(line, arrived=i)
        for ready in buffer.ready(now=i):
            cursor.sent(ready)
            if wanted.wants(ready):
                size = len(cursor.encode())
    return len(lines) / (time.perf_counter() - started), size


def _resume(lines: list[LogLine]) -> float:
    skip = Resumed(Mark(lines[len(lines) // 2].time, 1))
    started = time.perf_counter()
    for line in lines:
        skip.new(line.time)
    return len(lines) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--store", type=int, default=0, help="lines to store in VictoriaLogs and search")
    parser.add_argument("--kwok", type=int, default=0, help="KWOK instances whose logs the shipper stores")
    parser.add_argument("--seconds", type=float, default=30.0, help="--kwok: how long the instances write")
    args = parser.parse_args()
    if args.store:
        from bench.logstore import run

        asyncio.run(run(args.store))
        return
    if args.kwok:
        from bench.logship import run as ship

        asyncio.run(ship(args.kwok, seconds=args.seconds))
        return
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, {args.lines} lines\n")
    print("| instances followed | stream: lines/s (one core) | event id bytes | resumed read's skip: lines/s |")
    print("|---|---|---|---|")
    for instances in (1, 20, 200, 1000):
        count = args.lines if instances < 200 else args.lines // 10
        lines = _lines(instances, count)
        rate, size = _follow(lines)
        print(f"| {instances} | {rate:,.0f} | {size:,} | {_resume(lines):,.0f} |")


if __name__ == "__main__":
    main()
