"""The heap-based fit answers exactly as the reference scan (``fit_reference.py``) over random clusters.

Small random clusters (pools, zones, missing labels, taints, cordons, full nodes), random pods (other
namespaces, the group's own to be replaced, lower and higher priorities, their own anti-affinity,
terminating, pending) and random shapes (selectors, tolerations, anti-affinity, spreads on zone and
hostname with skews, selectors that do or do not select the shape itself, priorities that preempt):
the whole :class:`Fit` (count, nodes, message, reasons, preemptions) must be equal.
"""

from __future__ import annotations

import random

import pytest

from dockyard.domain.capacity import NodeInfo, PodShape, Spread, Taint, Toleration, Usage
from dockyard.domain.fit import PodList, place
from tests.unit.domain import fit_reference

GI = 1024**3
ZONE, HOST, POOL = "topology.kubernetes.io/zone", "kubernetes.io/hostname", "dockyard.io/pool"
DEDICATED = Taint("dockyard.io/dedicated", "s.x", "NoSchedule")
SELECTORS = [
    (("dockyard.io/app", "web"), ("dockyard.io/group", "prod")),
    (("dockyard.io/group", "prod"),),
    (("dockyard.io/group", "other"),),
    (("dockyard.io/app", "web"),),
]


def random_nodes(rng: random.Random) -> list[NodeInfo]:
    out = []
    for i in range(rng.randint(1, 24)):
        name = f"n{i}"
        labels = [(POOL, rng.choice("ab")), (HOST, name)]
        if rng.random() < 0.9:
            labels.append((ZONE, rng.choice(["z1", "z2", "z3"])))
        taints = (DEDICATED,) if rng.random() < 0.1 else ()
        if rng.random() < 0.05:
            taints += (Taint("soft", "", "PreferNoSchedule"),)
        cpu = rng.choice([2000, 4000, 8000, 8000, 8000])  # many alike: ties on the score
        memory = rng.choice([4, 8, 32]) * GI
        out.append(
            NodeInfo(name, tuple(labels), taints, rng.random() < 0.05, True, cpu, memory, rng.choice([3, 10, 110]))
        )
    return out


def random_pods(rng: random.Random, nodes: list[NodeInfo]) -> list[Usage]:
    out = []
    for i in range(rng.randint(0, 60)):
        where = rng.choice(nodes).name if rng.random() < 0.95 else ""
        anti = rng.choice(SELECTORS) if rng.random() < 0.1 else None
        out.append(
            Usage(
                namespace=rng.choice(["shop", "shop", "other"]),
                name=f"p{i}",
                node=where,
                phase="Running" if where else "Pending",
                cpu_millis=rng.choice([0, 250, 500, 1000, 2000]),
                memory=rng.choice([0, GI // 2, GI, 2 * GI]),
                priority=rng.choice([0, 1000, 1000, 100000]),
                app=rng.choice(["web", "web", "api"]),
                group=rng.choice(["prod", "other", "x"]),
                business="",
                anti=anti,
                deleting=rng.random() < 0.1,
            )
        )
    return out


def random_shape(rng: random.Random) -> PodShape:
    spreads = []
    for key in (ZONE, HOST):
        if rng.random() < 0.4:
            selector = SELECTORS[0] if rng.random() < 0.8 else rng.choice(SELECTORS)
            spreads.append(Spread(key, rng.choice([1, 1, 2]), selector))
    rng.shuffle(spreads)
    return PodShape(
        namespace="shop",
        labels={"dockyard.io/app": "web", "dockyard.io/group": "prod"},
        cpu_millis=rng.choice([0, 500, 1000, 2000, 3000]),
        memory=rng.choice([0, GI // 2, GI, 4 * GI]),
        node_selector=((POOL, "a"),) if rng.random() < 0.3 else (),
        tolerations=(Toleration("dockyard.io/dedicated", "Equal", "s.x", "NoSchedule"),) if rng.random() < 0.3 else (),
        anti_affinity=(rng.choice(SELECTORS),) if rng.random() < 0.3 else (),
        spreads=tuple(spreads),
        priority=rng.choice([0, 1000, 100000, 100000]),
        preempts=rng.random() < 0.8,
    )


def check(seed: int) -> None:
    rng = random.Random(seed)
    nodes = random_nodes(rng)
    pods = random_pods(rng, nodes)
    shape = random_shape(rng)
    count = rng.randint(1, 40)
    replacing = (("dockyard.io/group", "prod"),) if rng.random() < 0.5 else None

    def replaced(pod: Usage) -> bool:
        return replacing is not None and pod.namespace == "shop" and pod.matches(replacing)

    want = fit_reference.place(nodes, PodList(pods), shape, count, replacing=replaced)
    got = place(nodes, PodList(pods), shape, count, replacing=replacing)
    assert got == want, f"seed {seed}: {shape}"


@pytest.mark.parametrize("batch", range(10))
def test_the_heap_answers_as_the_reference_scan(batch: int) -> None:
    for seed in range(batch * 300, (batch + 1) * 300):
        check(seed)


@pytest.mark.parametrize("seed", [7498, 14101, 23594, 33726])
def test_a_node_preemption_fills_again_goes_to_the_end_of_the_candidates(seed: int) -> None:
    """Rare cases (1 in 8,000 seeds) where a node short of room when preempted on must lose its place
    in the tie-break, as the scan dropped it from its list and appended it again."""
    check(seed)
