"""Remediation's decisions as tables: which nodes are taken, held back or given back."""

from __future__ import annotations

import pytest

from dockyard.domain.errors import InvalidInput
from dockyard.domain.remediation import (
    Action,
    Instance,
    NodeState,
    Policy,
    budget,
    check_policy,
    clear_since,
    evictions,
    plan,
    problem_of,
    taint_value,
)

ON = Policy(mode="on")


def pool(size: int, sick: int, *, taken: int = 0, name: str = "general") -> list[NodeState]:
    """``size`` nodes, the first ``sick`` with KernelDeadlock, the first ``taken`` of those tainted."""
    return [
        NodeState(f"{name}-{i:02}", name, "KernelDeadlock" if i < sick else "", "KernelDeadlock" if i < taken else "")
        for i in range(size)
    ]


@pytest.mark.parametrize(
    ("size", "share", "allowed"),
    [(1, 0.49, 1), (2, 0.49, 1), (3, 0.49, 1), (10, 0.49, 4), (20, 0.49, 9), (100, 0.49, 49), (10, 0.3, 3)],
)
def test_budget_is_a_share_of_the_pool_and_at_least_one(size: int, share: float, allowed: int) -> None:
    assert budget(size, share) == allowed


@pytest.mark.parametrize(
    ("nodes", "taken", "held"),
    [
        (pool(10, 0), 0, 0),
        (pool(10, 1), 1, 0),
        (pool(10, 3), 3, 0),
        (pool(10, 6), 4, 2),  # 49 % of 10: 4 at once
        (pool(10, 6, taken=4), 0, 2),  # already at the limit
        (pool(10, 6, taken=2), 2, 2),
        (pool(1, 1), 1, 0),  # a pool of one: its one node (at least 1)
        (pool(20, 6), 6, 0),  # 30 % of a pool of 20: within 9
        (pool(4, 2, name="a") + pool(4, 2, name="b"), 2, 2),  # each pool its own limit: 1 of 4
    ],
)
def test_take_within_each_pools_limit(nodes: list[NodeState], taken: int, held: int) -> None:
    made = plan(nodes, ON, now=1000.0)
    assert len([a for a in made.actions if a.kind == "take"]) == taken
    assert len(made.held) == held
    for h in made.held:
        assert "at most" in h.why


def test_takes_in_name_order_with_the_condition_as_the_taints_value() -> None:
    made = plan(pool(4, 3), ON, now=0.0)
    assert made.actions == [Action("general-00", "take", "KernelDeadlock")]
    assert [h.node for h in made.held] == ["general-01", "general-02"]


@pytest.mark.parametrize(("policy", "why"), [(Policy(mode="on", paused=True), "paused"), (Policy(mode="off"), "off")])
def test_paused_or_off_takes_and_gives_back_nothing(policy: Policy, why: str) -> None:
    nodes = [*pool(10, 2), NodeState("back", "general", "", "KernelDeadlock", clear_since=0.0)]
    made = plan(nodes, policy, now=10_000.0)
    assert made.actions == []
    assert len(made.held) == 3
    assert all(why in h.why for h in made.held)


def test_dry_run_plans_what_on_would_do() -> None:
    nodes = pool(10, 6)
    assert plan(nodes, Policy(mode="dry-run"), now=0.0) == plan(nodes, ON, now=0.0)


@pytest.mark.parametrize(
    ("node", "now", "given_back"),
    [
        (NodeState("n", "p", "", "KernelDeadlock", clear_since=100.0), 399.0, False),  # quiet for 299 s
        (NodeState("n", "p", "", "KernelDeadlock", clear_since=100.0), 400.0, True),  # 300 s
        (NodeState("n", "p", "KernelDeadlock", "KernelDeadlock", clear_since=None), 10_000.0, False),  # still sick
        (NodeState("n", "p", "", "KernelDeadlock", clear_since=None), 10_000.0, False),  # not yet seen clear
        (NodeState("n", "p", "", "", clear_since=100.0), 10_000.0, False),  # not ours
    ],
)
def test_give_back_after_the_quiet_period(node: NodeState, now: float, given_back: bool) -> None:
    made = plan([node], ON, now=now)
    assert [a.kind for a in made.actions] == (["give-back"] if given_back else [])


def test_clear_since_is_kept_while_clear_and_restarts_when_the_problem_comes_back() -> None:
    clear = NodeState("n", "p", "", "KernelDeadlock")
    sick = NodeState("n", "p", "KernelDeadlock", "KernelDeadlock")
    first = clear_since({}, [clear], now=100.0)
    assert first == {"n": 100.0}
    assert clear_since(first, [clear], now=200.0) == {"n": 100.0}
    assert clear_since(first, [sick], now=200.0) == {}  # back: the wait restarts
    assert clear_since({}, [NodeState("n", "p", "", "")], now=1.0) == {}  # no taint: nothing to wait for


def test_a_flapping_condition_never_flaps_the_taint() -> None:
    """Clear for 200 s, sick again, clear again: no give-back before a full quiet period."""
    since: dict[str, float] = {}
    actions = []
    for t, sick in [(0, False), (200, True), (250, False), (500, False), (549, False), (550, False)]:
        node = NodeState("n", "p", "KernelDeadlock" if sick else "", "KernelDeadlock")
        since = clear_since(since, [node], now=float(t))
        made = plan([NodeState("n", "p", node.problem, node.tainted, since.get("n"))], ON, now=float(t))
        actions += [(t, a.kind) for a in made.actions]
    assert actions == [(550, "give-back")]


@pytest.mark.parametrize(
    ("problems", "problem"),
    [
        ((), ""),
        ((("Ready", "KubeletNotReady", ""),), ""),
        ((("DiskPressure", "", ""),), ""),
        ((("DiskPressure", "", ""), ("ReadonlyFilesystem", "FilesystemIsReadOnly", "")), "ReadonlyFilesystem"),
    ],
)
def test_only_node_problem_detector_conditions_are_remediated(
    problems: tuple[tuple[str, str, str], ...], problem: str
) -> None:
    assert problem_of(problems) == problem


@pytest.mark.parametrize(
    ("condition", "value"),
    [
        ("KernelDeadlock", "KernelDeadlock"),
        ("my plugin/Thing!", "my-plugin-Thing"),
        ("x" * 80, "x" * 63),
        ("!!", "problem"),
    ],
)
def test_taint_values_are_label_values(condition: str, value: str) -> None:
    assert taint_value(condition) == value


@pytest.mark.parametrize(
    ("mode", "share", "quiet", "field"),
    [("sometimes", 0.49, 300, "mode"), ("on", 0.0, 300, "max_share"), ("on", 1.0, 300, "max_share"),
     ("on", 0.49, -1, "quiet_seconds"), ("on", 0.49, 10**7, "quiet_seconds")],
)  # fmt: skip
def test_a_bad_policy_names_its_field(mode: str, share: float, quiet: float, field: str) -> None:
    with pytest.raises(InvalidInput) as e:
        check_policy(mode, share, quiet)
    assert e.value.field == field


def inst(name: str, node: str, *, group: str = "shop/web/prod", ready: bool = True, deleting: bool = False) -> Instance:
    return Instance("shop", name, group, node, ready, deleting)


@pytest.mark.parametrize(
    ("instances", "evicted", "waiting"),
    [
        ([inst("a", "ok1")], [], []),  # nothing on a taken node
        ([inst("a", "sick"), inst("b", "ok1")], ["a"], []),
        ([inst("a", "sick"), inst("b", "sick"), inst("c", "ok1")], ["a"], ["b"]),  # one at a time per group
        ([inst("a", "sick"), inst("b", "ok1", ready=False)], [], ["a"]),  # the group already has one down
        ([inst("a", "sick"), inst("b", "ok1", deleting=True)], [], ["a"]),  # an eviction in flight
        ([inst("a", "sick", deleting=True), inst("b", "sick")], [], ["b"]),
        ([inst("a", "sick", ready=False), inst("b", "sick")], ["a"], ["b"]),  # a not-ready one goes first, costs none
        ([inst("a", "sick"), inst("x", "sick", group="shop/api/prod")], ["x", "a"], []),  # groups apart, by name
    ],
)
def test_evictions_keep_each_group_within_its_budget(
    instances: list[Instance], evicted: list[str], waiting: list[str]
) -> None:
    go, wait = evictions({"sick"}, instances)
    assert [i.name for i in go] == evicted
    assert [i.name for i, _ in wait] == waiting
