"""Dockyard's /metrics per-instance families at scale: prometheus-client's generic path against the
text written directly (``dockyard.api.instance_series``), in the same run, in-process.

    .venv/bin/python -m bench.metrics_export --instances 30000 --rounds 5

Both render the same three families (info, ready, restarts) of ``--instances`` instances; the
generic path (``tests.unit.api.instance_reference``) is what /metrics did before.
Prints a Markdown table for docs/benchmarks.md. Not a test.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

from prometheus_client import generate_latest
from tests.unit.api import instance_reference

from dockyard.api import instance_series
from dockyard.domain.live import PlacedInstance, PodRecord


def _placed(n: int) -> list[PlacedInstance]:
    return [
        PlacedInstance(
            "local",
            "idc-a",
            PodRecord(
                namespace="bench", name=f"web-g{i // 20}-{i:05d}", uid=str(i), app="web", group=f"g{i // 20}",
                version="1", phase="Running", ready=True, restarts=i % 3, pod_ip="10.0.0.1", host_ip="127.0.0.1",
                node=f"n{i % 1000}", created=0.0, reason="", deleting=False,
            ),
        )
        for i in range(n)
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instances", type=int, default=30000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    placed = _placed(args.instances)
    registry = instance_reference.registry(placed)
    generic: list[float] = []
    direct: list[float] = []
    for _ in range(args.rounds):  # interleaved, so both see the same machine
        started = time.perf_counter()
        before = generate_latest(registry)
        generic.append(time.perf_counter() - started)
        started = time.perf_counter()
        after = instance_series.render(placed).encode()
        direct.append(time.perf_counter() - started)
        assert before == after
    print(f"{args.instances} instances on {platform.node()} ({os.cpu_count()} cores), {args.rounds} rounds:\n")
    print("| path | median | max | bytes |\n|---|---|---|---|")
    for name, taken, size in (
        ("prometheus-client (before)", generic, before),
        ("written directly (after)", direct, after),
    ):
        print(f"| {name} | {statistics.median(taken) * 1000:.0f} ms | {max(taken) * 1000:.0f} ms | {len(size):,} |")


if __name__ == "__main__":
    main()
