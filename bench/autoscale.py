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
"""

from __future__ import annotations

import argparse
import platform
import random
import time
from collections.abc import Callable
from dataclasses import asdict

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


if __name__ == "__main__":
    main()
