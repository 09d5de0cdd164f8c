"""The placement preview's fit in-process at 1,000 nodes / 30,000 pods: the heap against the reference scan.

    .venv/bin/python -m bench.fit_micro --runs 200
    .venv/bin/python -m bench.fit_micro --profile "hard node spread, big pool"   # cProfile of one shape

No sandbox: synthetic records shaped like ``bench/placement_preview.py``'s cluster (two big pools of 480
nodes, 32 CPU / 128 Gi / 110 pods, zones a and b; four small pools of 8–12 nodes, 8 CPU / 32 Gi / 30
pods; 30 pods of 100m / 128 Mi per big node in 300 groups, 0–3 one-CPU pods per small node) are put
into the capacity caches' indexes (:class:`NodeIndex`, :class:`UsageIndex`), then each shape is
previewed the way ``services/placement.preview_spec`` does it: the rendered template's
:class:`PodShape`, ``NodeIndex.all()``, the live ``UsageIndex`` and the group's labels as ``replacing``, into
:func:`dockyard.domain.fit.place` — and, in the same run, into the reference implementation kept in
``tests/unit/domain/fit_reference.py`` (every candidate node scanned for every instance). Both must
give the same answer; p50 / p99 of each. Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from tests.unit.domain.fit_reference import place as reference_place

from dockyard.adapters.kube.capacity import NodeIndex, UsageIndex
from dockyard.domain.capacity import (
    APP_LABEL,
    CPU_MODEL_LABEL,
    GROUP_LABEL,
    HOSTNAME_LABEL,
    IDC_LABEL,
    POOL_LABEL,
    ZONE_LABEL,
    NodeInfo,
    PodShape,
    Usage,
    shape_of,
)
from dockyard.domain.fit import Fit, place
from dockyard.domain.render import GroupRef, deployment
from dockyard.domain.versions import parse_spec

GI = 1024**3
MI = 1024**2
SYSTEM = "bench"
IMAGE = "registry.local/bench/web:1"
SMALL = [("small-1", 10, "s1"), ("small-2", 10, "s2"), ("small-3", 8, "s3"), ("small-4", 12, "s4")]
SMALL_MODEL = "xeon-small"
SHAPES: dict[str, dict[str, Any]] = {
    "hard node spread, big pool": {
        "flavor": "small",
        "instances": 50,
        "placement": {"pool": "big-a", "spread": {"level": "node", "hard": True}},
    },
    "hard zone spread, 4 small pools": {
        "flavor": "medium",
        "instances": 60,
        "placement": {"cpu_model": SMALL_MODEL, "spread": {"level": "zone", "hard": True}},
    },
    "no spread, both big pools, 500 instances": {"flavor": "small", "instances": 500, "placement": {}},
}


def nodes(big: int) -> list[NodeInfo]:
    def one(name: str, pool: str, idc: str, zone: str, model: str, cpu: int, memory: int, pods: int) -> NodeInfo:
        labels = ((POOL_LABEL, pool), (CPU_MODEL_LABEL, model), (ZONE_LABEL, zone), (HOSTNAME_LABEL, name))
        return NodeInfo(name, (*labels, (IDC_LABEL, idc)), (), False, True, cpu, memory, pods)

    out = []
    for pool, idc, zone, model in (
        ("big-a", "idc-a", "a", "intel-xeon-gold-6248"),
        ("big-b", "idc-b", "b", "amd-epyc-7742"),
    ):
        out += [one(f"{pool}-{i}", pool, idc, zone, model, 32000, 128 * GI, 110) for i in range(big)]
    for pool, count, zone in SMALL:
        out += [one(f"{pool}-{i}", pool, "idc-s", zone, SMALL_MODEL, 8000, 32 * GI, 30) for i in range(count)]
    return out


def pods(cluster: list[NodeInfo], count: int, namespace: str, rng: random.Random) -> list[Usage]:
    """``count`` pods like the sandbox bench's load: 0–3 one-CPU pods per small node, the rest on the big ones."""

    def one(name: str, node: str, group: str, cpu: int, memory: int) -> Usage:
        return Usage(namespace, name, node, "Running", cpu, memory, 0, "load", group, "", None, False)

    big = [n.name for n in cluster if n.name.startswith("big-")]
    out = [
        one(f"{n.name}-fill-{i}", n.name, "fill", 1000, GI)
        for n in cluster
        if n.name.startswith("small-")
        for i in range(rng.randrange(0, 4))
    ]
    i = 0
    while len(out) < count:
        out.append(one(f"load-{i:05d}", big[i % len(big)], f"g{i % 300}", 100, 128 * MI))
        i += 1
    return out


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


Place = Callable[..., Fit]
REPLACING = ((APP_LABEL, "web"), (GROUP_LABEL, "measured"))


def preview(node_index: NodeIndex, usage: UsageIndex, shape: PodShape, instances: int, fit: Place) -> Fit:
    """What ``services/placement.preview_spec`` does once it has the shape and the cluster's caches."""

    if fit is reference_place:  # the predicate services/placement.py passed before the selector

        def replacing(pod: Usage) -> bool:
            return pod.namespace == SYSTEM and pod.app == "web" and pod.group == "measured"

        return fit(node_index.all(), usage, shape, instances, replacing=replacing)
    return fit(node_index.all(), usage, shape, instances, replacing=REPLACING)


def measure(runs: int, big: int, pod_count: int, seed: int, profile: str | None) -> None:
    cluster = nodes(big)
    ref = GroupRef(system=SYSTEM, app="web", group="measured")
    for namespace in ("load", SYSTEM):
        node_index = NodeIndex(cluster)
        usage = UsageIndex(pods(cluster, pod_count, namespace, random.Random(seed)))
        where = "the pods in another namespace" if namespace == "load" else "all pods in the instances' namespace"
        print(f"\n{len(cluster)} nodes, {len(usage)} pods, {where}\n")
        print("| shape | fits | heap (new) p50 / p99 | reference scan p50 / p99 | speed-up at p50 |")
        print("|---|---|---|---|---|")
        for label, body in SHAPES.items():
            spec = parse_spec({"image": IMAGE, **body})
            shape = shape_of(ref.namespace, deployment(ref, 1, spec)["spec"]["template"])
            if profile and profile in label:
                profiler = cProfile.Profile()
                for _ in range(20):
                    profiler.runcall(preview, node_index, usage, shape, spec.instances, place)
                pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(18)
            new = preview(node_index, usage, shape, spec.instances, place)
            old = preview(node_index, usage, shape, spec.instances, reference_place)
            if new != old:
                raise SystemExit(f"{label}: the heap says {new}, the reference {old}")
            timings: dict[str, list[float]] = {"new": [], "old": []}
            for _ in range(runs):  # interleaved, so that both see the same machine
                for name, fit in (("new", place), ("old", reference_place)):
                    start = time.perf_counter()
                    preview(node_index, usage, shape, spec.instances, fit)
                    timings[name].append(time.perf_counter() - start)
            (n50, n99), (o50, o99) = percentiles(timings["new"]), percentiles(timings["old"])
            print(
                f"| {label} | {new.fits}/{new.wanted} | {n50 * 1000:.2f} / {n99 * 1000:.2f} ms "
                f"| {o50 * 1000:.2f} / {o99 * 1000:.2f} ms | ×{o50 / n50:.1f} |",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--big-nodes", type=int, default=480, help="nodes in each of the two big pools")
    parser.add_argument("--pods", type=int, default=30000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", help="cProfile 20 previews of the shape whose label contains this")
    args = parser.parse_args()
    measure(args.runs, args.big_nodes, args.pods, args.seed, args.profile)
    print(f"\nmachine: {os.cpu_count()} cores; date {time.strftime('%Y-%m-%d')}; load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
