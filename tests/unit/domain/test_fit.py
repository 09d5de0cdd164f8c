"""The placement preview's fit: tables of clusters, pod shapes and what the scheduler would say."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

from dockyard.domain.capacity import (
    NodeInfo,
    PodShape,
    Spread,
    Taint,
    Toleration,
    Usage,
    byte_count,
    millis,
    requests,
    shape_of,
    summarize,
)
from dockyard.domain.fit import Fit, PodList, place, spare, spare_by_cpu_model
from dockyard.domain.render import GroupRef, deployment
from dockyard.domain.versions import parse_spec

GI = 1024**3
GROUP = (("dockyard.io/app", "web"), ("dockyard.io/group", "prod"))
LABELS = {"dockyard.io/app": "web", "dockyard.io/group": "prod"}


def node(
    name: str,
    *,
    pool: str = "a",
    zone: str = "z1",
    cpu: int = 32000,
    memory: int = 128 * GI,
    pods: int = 110,
    taints: tuple[Taint, ...] = (),
    unschedulable: bool = False,
) -> NodeInfo:
    labels = (("dockyard.io/pool", pool), ("topology.kubernetes.io/zone", zone), ("kubernetes.io/hostname", name))
    return NodeInfo(name, labels, taints, unschedulable, True, cpu, memory, pods)


def pod(
    name: str,
    on: str,
    *,
    cpu: int = 1000,
    memory: int = GI,
    group: str = "other",
    priority: int = 0,
    namespace: str = "shop",
    anti: tuple[tuple[str, str], ...] | None = None,
) -> Usage:
    return Usage(namespace, name, on, "Running", cpu, memory, priority, "web", group, "", anti, False)


def shape(**kw: object) -> PodShape:
    base: dict[str, object] = {"namespace": "shop", "labels": LABELS, "cpu_millis": 1000, "memory": GI}
    return PodShape(**(base | kw))  # type: ignore[arg-type]


def run(nodes: list[NodeInfo], pods: Iterable[Usage], s: PodShape, count: int) -> Fit:
    return place(nodes, PodList(pods), s, count)


TEN = [node(f"n{i}") for i in range(10)]
HARD = shape(anti_affinity=(GROUP,))


@pytest.mark.parametrize(
    ("nodes", "pods", "s", "count", "fits", "message"),
    [
        (TEN, [], shape(), 5, 5, ""),
        # hard anti-affinity: one per node, the 11th says why on every node
        (TEN, [], HARD, 11, 10, "0/10 nodes are available: 10 node(s) didn't match pod anti-affinity rules."),
        # a pool selector: the other nodes do not match
        (
            TEN[:4] + [node(f"b{i}", pool="b") for i in range(6)],
            [],
            shape(node_selector=(("dockyard.io/pool", "a"),), anti_affinity=(GROUP,)),
            5,
            4,
            "0/10 nodes are available: 4 node(s) didn't match pod anti-affinity rules, "
            "6 node(s) didn't match Pod's node affinity/selector.",
        ),
        # resources: 3 nodes of 4 CPU take 2 instances of 2 CPU each
        (
            [node(f"n{i}", cpu=4000) for i in range(3)],
            [],
            shape(cpu_millis=2000),
            7,
            6,
            "0/3 nodes are available: 3 Insufficient cpu.",
        ),
        (
            [node("n0", cpu=4000, memory=2 * GI)],
            [],
            shape(cpu_millis=5000, memory=3 * GI),
            1,
            0,
            "0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory.",
        ),
        ([node("n0", pods=2)], [pod("x", "n0")], shape(), 2, 1, "0/1 nodes are available: 1 Too many pods."),
        # taints and cordoned nodes, in the scheduler's order: unschedulable before taints before the selector
        (
            [
                node("t", taints=(Taint("dockyard.io/dedicated", "s.x", "NoSchedule"),)),
                node("u", unschedulable=True),
                node("p", taints=(Taint("soft", "", "PreferNoSchedule"),), cpu=1000),
            ],
            [],
            shape(),
            2,
            1,
            "0/3 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint(s), "
            "1 node(s) were unschedulable.",
        ),
        (
            [node("t", taints=(Taint("dockyard.io/dedicated", "s.x", "NoSchedule"),))],
            [],
            shape(tolerations=(Toleration("dockyard.io/dedicated", "Equal", "s.x", "NoSchedule"),)),
            1,
            1,
            "",
        ),
        # existing pods of the group count for anti-affinity; an existing pod's own anti-affinity repels
        (
            TEN[:3],
            [pod("g0", "n0", group="prod"), pod("g1", "n1", group="prod")],
            HARD,
            2,
            1,
            "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules.",
        ),
        (
            TEN[:2],
            [pod("o", "n0", anti=(("dockyard.io/group", "prod"),))],
            shape(),
            3,
            3,
            "",
        ),
        (
            TEN[:1],
            [pod("o", "n0", anti=(("dockyard.io/group", "prod"),))],
            shape(),
            1,
            0,
            "0/1 nodes are available: 1 node(s) didn't satisfy existing pods anti-affinity rules.",
        ),
        # another namespace's pods are not selected
        (TEN[:1], [pod("g0", "n0", group="prod", namespace="other")], HARD, 1, 1, ""),
    ],
)
def test_place(nodes: list[NodeInfo], pods: list[Usage], s: PodShape, count: int, fits: int, message: str) -> None:
    fit = run(nodes, pods, s, count)
    assert (fit.fits, fit.message) == (fits, message)
    assert sum(fit.nodes.values()) == fits


def test_zone_spread_keeps_the_skew_even_when_a_zone_is_full() -> None:
    nodes = [node("a0", zone="a"), node("a1", zone="a"), node("b0", zone="b", cpu=2000)]
    zone = Spread("topology.kubernetes.io/zone", 1, GROUP)
    fit = run(nodes, [], shape(spreads=(zone,)), 10)
    # zone b holds 2 instances, so zone a may hold 3: the 6th would make a skew of 2
    assert fit.fits == 5
    assert fit.message == (
        "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match pod topology spread constraints."
    )


def test_zone_spread_needs_the_label() -> None:
    bare = NodeInfo("x", (), (), False, True, 32000, 128 * GI, 110)
    fit = run([bare], [], shape(spreads=(Spread("topology.kubernetes.io/zone", 1, GROUP),)), 1)
    assert (
        fit.message
        == "0/1 nodes are available: 1 node(s) didn't match pod topology spread constraints (missing required label)."
    )


def test_higher_priority_preempts_lower_and_batch_never_does() -> None:
    nodes = [node("n0", cpu=8000), node("n1", cpu=8000)]
    batch = [pod(f"b{i}", f"n{i % 2}", cpu=4000, priority=1000) for i in range(4)]
    online = run(nodes, batch, shape(cpu_millis=8000, priority=100000), 2)
    assert (online.fits, online.preempted) == (2, 4)
    never = run(nodes, batch, shape(cpu_millis=8000, priority=100000, preempts=False), 1)
    assert never.fits == 0
    same = run(nodes, batch, shape(cpu_millis=4000, priority=1000), 1)
    assert same.fits == 0


def test_replaced_pods_are_not_counted() -> None:
    mine = [pod(f"g{i}", f"n{i}", group="prod") for i in range(10)]
    fit = place(TEN, PodList(mine), HARD, 10, replacing=(("dockyard.io/group", "prod"),))
    assert fit.fits == 10


def test_quantities_and_requests() -> None:
    assert [millis("500m"), millis("2"), millis("0.1"), millis(None)] == [500, 2000, 100, 0]
    assert [byte_count("1Gi"), byte_count("1k"), byte_count("1e3")] == [GI, 1000, 1000]
    spec = {
        "containers": [{"resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}, {"resources": {}}],
        "initContainers": [{"resources": {"requests": {"cpu": "3"}}}],
    }
    assert requests(spec) == (3000, GI)


def test_shape_of_a_rendered_deployment() -> None:
    placement = {"pool": "a", "spread": {"hard": True}, "priority": "online"}
    spec = parse_spec({"image": "r/web:1", "flavor": "medium", "instances": 2, "placement": placement})
    made = deployment(GroupRef("shop", "web", "prod"), 1, spec)
    s = shape_of("shop", made["spec"]["template"])
    assert (s.cpu_millis, s.memory, s.node_selector) == (2000, 4096 * 1024 * 1024, (("dockyard.io/pool", "a"),))
    assert s.anti_affinity == (GROUP,)
    assert (s.priority, s.preempts) == (100000, True)


def test_summarize_per_pool_and_cpu_model() -> None:
    nodes = [node("a0"), node("a1"), node("b0", pool="b")]
    nodes[1] = NodeInfo("a1", nodes[1].labels, (), False, False, 32000, 128 * GI, 110)
    used = {"a0": (1000, GI, 1), "b0": (2000, 2 * GI, 2)}
    summary = summarize(nodes, lambda n: used.get(n, (0, 0, 0)), pods=4, pending=1)
    assert (summary.ready, summary.not_ready, summary.pods, summary.pending) == (2, 1, 4, 1)
    assert (summary.allocatable.cpu_millis, summary.requested.cpu_millis, summary.requested.memory_mib) == (
        96000,
        3000,
        3072,
    )
    assert [(p.pool, p.nodes, p.ready, p.requested.cpu_millis) for p in summary.pools] == [
        ("a", 2, 1, 1000),
        ("b", 1, 1, 2000),
    ]


def test_spare_by_cpu_model_counts_what_each_model_can_still_take() -> None:
    def typed(name: str, model: str, **kw: Any) -> NodeInfo:
        n = node(name, **kw)
        return NodeInfo(
            n.name, (*n.labels, ("dockyard.io/cpu-model", model)), n.taints, False, True, n.cpu_millis, n.memory, n.pods
        )

    nodes = [
        typed("i0", "intel", cpu=8000),
        typed("i1", "intel", cpu=8000),
        typed("a0", "amd", cpu=16000),
        typed("t0", "amd", cpu=64000, taints=(Taint("k", "v", "NoSchedule"),)),
    ]
    used = {"i0": (4000, GI, 1)}
    spare = spare_by_cpu_model(nodes, lambda n: used.get(n, (0, 0, 0)), shape(cpu_millis=2000))
    assert spare == {"intel": 2 + 4, "amd": 8}


@pytest.mark.parametrize(
    ("nodes", "pods", "s", "limit", "expected"),
    [
        ([node("n0", cpu=8000)], [], shape(cpu_millis=2000), 1000, 4),  # cpu bound
        ([node("n0", memory=3 * GI)], [], shape(), 1000, 3),  # memory bound
        ([node("n0", pods=2)], [], shape(), 1000, 2),  # pod slots bound
        ([node("n0", cpu=8000)], [pod("x", "n0", cpu=5000)], shape(), 1000, 3),  # others' requests taken
        ([node("n0", cpu=8000)], [pod("g", "n0", cpu=5000, group="prod")], shape(), 1000, 8),  # own: room
        (TEN, [], HARD, 1000, 10),  # hard anti-affinity: one per node, as place says
        (
            [node("n0", unschedulable=True), node("n1", pool="b")],
            [],
            shape(node_selector=(("dockyard.io/pool", "a"),)),
            1000,
            0,
        ),
        (TEN, [], shape(), 50, 50),  # capped
    ],
)
def test_spare_is_what_place_would_still_fit(
    nodes: list[NodeInfo], pods: list[Usage], s: PodShape, limit: int, expected: int
) -> None:
    got = spare(nodes, PodList(pods), s, replacing=GROUP, limit=limit)
    assert got == expected


REAL = Taint("dockyard.io/pool", "idc-a-real", "NoSchedule")


@pytest.mark.parametrize(
    ("placement", "fits", "on"),
    [
        # naming the tainted pool: its toleration is rendered, the real node counts
        ({"pool": "idc-a-real"}, 1, {"real-0": 1}),
        # another pool, or none: the reserved node never counts
        ({"pool": "a"}, 2, {"n0": 1, "n1": 1}),
        (None, 2, {"n0": 1, "n1": 1}),
    ],
)
def test_a_tainted_pool_counts_only_for_groups_naming_it(
    placement: dict[str, str] | None, fits: int, on: dict[str, int]
) -> None:
    nodes = [node("n0", cpu=1000), node("n1", cpu=1000), node("real-0", pool="idc-a-real", cpu=1000, taints=(REAL,))]
    spec = parse_spec({"image": "r/web:1", "flavor": "small", "instances": 3, "placement": placement})
    made = deployment(GroupRef("shop", "web", "prod"), 1, spec)
    result = place(nodes, PodList([]), shape_of("shop", made["spec"]["template"]), 3)
    assert (result.fits, result.nodes) == (fits, on)
