"""The autoscaler's cost per round for many groups, measured in one run.

    .venv/bin/python -m bench.autoscale --groups 1000

- the pure decision (:func:`dockyard.domain.autoscale.decide`) for every group: two signals
  (requests and CPU), a 300 s window at a 15 s step (21 points each), loads drawn so that about a
  third scale up, a third down and a third hold;
- the PromQL each round builds for those groups (:func:`load_query`, escaping included);
- both with a policy parsed once per group vs parsed from its stored form every round (what a round
  reading specs from the database pays).

Process CPU time (``time.process_time``), best of ``--repeat`` rounds. Goal: one round for 1,000
groups under 1 s of CPU. Prints a Markdown table for docs/benchmarks.md. Not a test.

Then, same run (``--stats-groups 500 --days 30``; ``--stats-groups 0`` skips it), the 30-day statistics
report (docs/statistics.md): daily group rows of 500 groups × 2 clusters × 30 days stored in a SQLite
database through the repository, then the report read back, priced and rolled up to groups (the low-
efficiency flag included) and to systems — wall time, what an API call pays — against computing the
same from raw samples, one instance and one 60 s step at a time (what the sampler does, without
Prometheus' answer of 4 series × 43,200 points × 3,000 instances): measured over ``--raw-steps`` steps
and scaled to the period (linear: each step is the same work).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import platform
import random
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from decimal import Decimal
from pathlib import Path

from dockyard.adapters.db.database import Database
from dockyard.domain import statistics as stats
from dockyard.domain.autoscale import GroupKey, Policy, decide, load_query, parse_policy

NOW = 1_800_000_000.0
RAW = {
    "min": 2,
    "max": 50,
    "signals": [{"signal": "requests", "baseline": 50}, {"signal": "cpu", "baseline": 0.5}],
    "scale_up": {"window_seconds": 60},
    "scale_down": {"window_seconds": 300},
}


def world(groups: int, seed: int = 7) -> list[tuple[GroupKey, Policy, int, dict[str, list[tuple[float, float]]]]]:
    rng = random.Random(seed)
    policy = parse_policy(RAW)
    assert policy is not None
    made = []
    for i in range(groups):
        current = rng.randint(2, 30)
        level = current * rng.choice((0.5, 1.0, 1.6))
        readings = {
            "requests": [(NOW - 300 + 15 * k, 50 * level * rng.uniform(0.95, 1.05)) for k in range(21)],
            "cpu": [(NOW - 300 + 15 * k, 0.4 * level * rng.uniform(0.95, 1.05)) for k in range(21)],
        }
        made.append((GroupKey("sys", f"app{i // 10}", f"g{i}"), policy, current, readings))
    return made


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--groups", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--stats-groups", type=int, default=500, help="groups of the statistics report (0: skip)")
    parser.add_argument("--days", type=int, default=30, help="days of the statistics report")
    parser.add_argument("--raw-steps", type=int, default=60, help="60 s steps computed from raw samples (scaled)")
    args = parser.parse_args()
    groups = world(args.groups)
    stored = [asdict(p) for _, p, _, _ in groups]
    actions: dict[str, int] = {}

    def decisions() -> None:
        actions.clear()
        for _, policy, current, readings in groups:
            d = decide(policy, current=current, readings=readings, now=NOW, stale_seconds=60)
            actions[d.action] = actions.get(d.action, 0) + 1

    def queries() -> None:
        for key, policy, _, _ in groups:
            for signal in policy.signals:
                load_query(signal, key)

    def parsed_every_round() -> None:
        for (_, _, current, readings), raw in zip(groups, stored, strict=True):
            policy = parse_policy(raw)
            assert policy is not None
            decide(policy, current=current, readings=readings, now=NOW, stale_seconds=60)

    d = best(decisions, args.repeat)
    q = best(queries, args.repeat)
    p = best(parsed_every_round, args.repeat)
    print(f"{args.groups} groups, 2 signals × 21 points each; {platform.python_version()}; actions {actions}")
    print(f"| one round, CPU (best of {args.repeat}) | value |")
    print("|---|---|")
    print(f"| decisions only | {d * 1000:.1f} ms ({d / args.groups * 1e6:.1f} µs a group) |")
    print(f"| PromQL built | {q * 1000:.1f} ms |")
    print(f"| decisions, the policy parsed from its stored form each time | {p * 1000:.1f} ms |")
    print(f"| decisions + PromQL (goal < 1 s) | {(d + q) * 1000:.1f} ms |")
    if args.stats_groups:
        asyncio.run(statistics_report(args.stats_groups, args.days, args.raw_steps, args.repeat))


INSTANCES = 3  # a group's instances per cluster
CLUSTERS = (("a", "idc-a"), ("b", "idc-b"))
STEP = 60


def samples_of(groups: int, rng: random.Random) -> list[stats.Sample]:
    made = []
    for g in range(groups):
        cpu, memory = rng.choice(((250, 2**28), (1000, 2**30), (2000, 2**32)))
        for cluster, idc in CLUSTERS:
            for i in range(INSTANCES):
                made.append(
                    stats.Sample(
                        cluster, idc, f"sys{g % 20}", f"app{g % 100}", f"g{g}", f"g{g}-{cluster}-{i}",
                        cpu, memory, int(cpu * rng.uniform(0.05, 1.3)), int(memory * rng.uniform(0.2, 1.1)),
                    )
                )  # fmt: skip
    return made


async def statistics_report(groups: int, days: int, raw_steps: int, repeat: int) -> None:
    rng = random.Random(11)
    samples = samples_of(groups, rng)
    first = dt.date(2026, 11, 1)
    last = first + dt.timedelta(days=days - 1)
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite+aiosqlite:///{Path(tmp) / 'stats.db'}")
        await db.upgrade()
        started = time.perf_counter()
        for d in range(days):
            at = int(dt.datetime.combine(first + dt.timedelta(days=d), dt.time(), dt.UTC).timestamp())
            _, rows = stats.step_rows(samples, at=at, step=86400)
            async with db.unit_of_work() as uow:
                await uow.statistics.add_step(
                    at=at, step=86400, measured=True, runner="bench", instances=[], groups=rows
                )
        async with db.unit_of_work() as uow:
            for cluster, _ in CLUSTERS:
                await uow.statistics.set_price(
                    stats.Price(cluster, first, Decimal("0.05"), Decimal("0.006")), by="bench"
                )
        stored = time.perf_counter() - started

        async def from_rollups() -> tuple[int, int]:
            async with db.unit_of_work() as uow:
                rows = await uow.statistics.group_days(first=first, last=last)
                prices = await uow.statistics.prices()
            priced = stats.price_rows(rows, prices)
            by_group = stats.roll_up(priced, "group")
            stats.low_efficiency(priced)
            by_system = stats.roll_up(priced, "system")
            return len(rows), len(by_group) + len(by_system)

        times, cpu = [], []
        for _ in range(repeat):
            started, started_cpu = time.perf_counter(), time.process_time()
            read, made = await from_rollups()
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
        await db.dispose()

    def from_raw() -> None:
        day_start = int(dt.datetime.combine(first, dt.time(), dt.UTC).timestamp())
        totals: dict[tuple[str, ...], stats.Row] = {}
        for k in range(raw_steps):
            for row in stats.step_rows(samples, at=day_start + k * STEP, step=STEP)[1]:
                found = totals.get(row.key)
                totals[row.key] = (
                    row if found is None else stats.Row(row.day, *row.key, amounts=found.amounts + row.amounts)
                )
        stats.roll_up(list(totals.values()), "group")

    started = time.process_time()
    from_raw()
    raw = (time.process_time() - started) / raw_steps * (86400 // STEP) * days
    print()
    print(
        f"statistics: {groups} groups × {len(CLUSTERS)} clusters × {INSTANCES} instances, {days} days "
        f"({read} stored daily group rows, {made} report rows); stored in {stored:.1f} s"
    )
    print("| 30-day report | value |")
    print("|---|---|")
    what = f"from the persisted daily rollups (SQLite; read, priced, groups + systems), wall, best of {repeat}"
    print(f"| {what} | {min(times) * 1000:.0f} ms (CPU {min(cpu) * 1000:.0f} ms) |")
    what = (
        f"from raw samples, 60 s steps ({len(samples)} instances × {86400 // STEP} steps a day × {days} days), "
        f"CPU, scaled from {raw_steps} steps"
    )
    print(f"| {what} | {raw:.1f} s |")
    print("| goal | < 5 s |")


if __name__ == "__main__":
    main()
