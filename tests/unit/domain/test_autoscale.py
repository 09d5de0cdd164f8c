"""The autoscale policy (parsing, in the version spec, diffed), the signals' PromQL and the decision:
tables of cases."""

from __future__ import annotations

from typing import Any

import pytest

from dockyard.domain.autoscale import (
    GroupKey,
    Policy,
    Signal,
    Step,
    decide,
    effective_instances,
    load_query,
    manual,
    parse_policy,
    settled_at,
    split_counts,
    wanted,
)
from dockyard.domain.errors import InvalidInput
from dockyard.domain.versions import diff, load_spec, parse_spec

NOW = 10_000.0
REQ = [{"signal": "requests", "baseline": 50}]


def policy(**changes: Any) -> Policy:
    raw: dict[str, Any] = {"min": 2, "max": 20, "signals": REQ, **changes}
    parsed = parse_policy(raw)
    assert parsed is not None
    return parsed


def flat(load: float, *, seconds: int = 300, every: int = 5, end: float = NOW) -> list[tuple[float, float]]:
    """``load`` held for ``seconds`` up to ``end``, a point every ``every`` seconds."""
    return [(end - seconds + i * every, load) for i in range(seconds // every + 1)]


# --- parsing ----------------------------------------------------------------------------------------


def test_defaults_and_stored_form_round_trip() -> None:
    parsed = policy()
    assert parsed == Policy(2, 20, (Signal("requests", 50.0),), 1.0, 0.1, Step(0, 60), Step(0, 300))
    spec = parse_spec(
        {"image": "r/a:1", "flavor": "small", "instances": 2, "autoscale": {"min": 2, "max": 20, "signals": REQ}}
    )
    assert spec.autoscale == parsed
    assert load_spec(spec.to_data()) == spec
    assert spec.with_changes(env={"A": "b"}).autoscale == parsed


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ("x", "autoscale"),
        ({"min": 2, "max": 20}, "autoscale.signals"),
        ({"min": 0, "max": 20, "signals": REQ}, "autoscale.min"),
        ({"min": 5, "max": 4, "signals": REQ}, "autoscale.max"),
        ({"min": 1, "max": 501, "signals": REQ}, "autoscale.max"),
        ({"min": 1, "max": 2, "signals": []}, "autoscale.signals"),
        ({"min": 1, "max": 2, "signals": REQ * 2}, "autoscale.signals"),
        ({"min": 1, "max": 2, "signals": [{"signal": "disk", "baseline": 1}]}, "autoscale.signals[0].signal"),
        ({"min": 1, "max": 2, "signals": [{"signal": "cpu", "baseline": 0}]}, "autoscale.signals[0].baseline"),
        ({"min": 1, "max": 2, "signals": [{"signal": "cpu", "baseline": True}]}, "autoscale.signals[0].baseline"),
        (
            {"min": 1, "max": 2, "signals": [{"signal": "cpu", "baseline": float("nan")}]},
            "autoscale.signals[0].baseline",
        ),
        ({"min": 1, "max": 2, "signals": [{"signal": "custom", "baseline": 1}]}, "autoscale.signals[0].series"),
        (
            {"min": 1, "max": 2, "signals": [{"signal": "custom", "baseline": 1, "series": 'x"}) or vector(1'}]},
            "autoscale.signals[0].series",
        ),
        (
            {"min": 1, "max": 2, "signals": [{"signal": "cpu", "baseline": 1, "series": "x"}]},
            "autoscale.signals[0].series",
        ),
        ({"min": 1, "max": 2, "signals": REQ, "target": 0}, "autoscale.target"),
        ({"min": 1, "max": 2, "signals": REQ, "target": 1.5}, "autoscale.target"),
        ({"min": 1, "max": 2, "signals": REQ, "tolerance": 0.9}, "autoscale.tolerance"),
        (
            {"min": 1, "max": 2, "signals": REQ, "scale_up": {"window_seconds": 7200}},
            "autoscale.scale_up.window_seconds",
        ),
        ({"min": 1, "max": 2, "signals": REQ, "scale_down": {"step": -1}}, "autoscale.scale_down.step"),
        ({"min": 1, "max": 2, "signals": REQ, "scale_down": {"speed": 1}}, "autoscale.scale_down.speed"),
        ({"min": 1, "max": 2, "signals": REQ, "cooldown": 1}, "autoscale.cooldown"),
    ],
)
def test_bad_policies_name_the_field(raw: Any, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_policy(raw)
    assert caught.value.field == field


def test_the_spec_instances_are_the_start_clamped_into_the_bounds() -> None:
    spec = parse_spec(
        {"image": "r/a:1", "flavor": "small", "instances": 1, "autoscale": {"min": 2, "max": 3, "signals": REQ}}
    )
    assert effective_instances(spec.instances, spec.autoscale, None) == 2
    # A cluster's share may be below min: a copy with it is still a spec.
    assert spec.with_changes(instances=1).instances == 1


def test_the_policy_is_diffed_field_by_field() -> None:
    base = {"image": "r/a:1", "flavor": "small", "instances": 2}
    old = parse_spec({**base, "autoscale": {"min": 2, "max": 20, "signals": REQ}})
    new = parse_spec({**base, "autoscale": {"min": 2, "max": 30, "signals": REQ}})
    assert diff(old, new) == {"autoscale.max": (20, 30)}
    assert set(diff(parse_spec(base), new)) == {f"autoscale.{k}" for k in Policy.__dataclass_fields__}


# --- queries ----------------------------------------------------------------------------------------


def test_queries_escape_the_group_and_read_the_rollups() -> None:
    key = GroupKey("shop", "web", 'p"}) or vector(1) #')
    cpu = load_query(Signal("cpu", 0.5), key)
    assert cpu == (
        'sum(group:container_cpu_usage_seconds:rate1m{app="web",group="p\\"}) or vector(1) #",system="shop"})'
    )
    requests = load_query(Signal("requests", 50), GroupKey("shop", "web", "prod"))
    assert requests.startswith("sum(sum by (cluster, namespace, pod) (rate(dockyard_requests_total[1m])) * on (")
    assert 'dockyard_instance_info{app="web",group="prod",system="shop"}' in requests
    gauge = load_query(Signal("custom", 10, series="queue_depth"), GroupKey("shop", "web", "prod"))
    assert "(queue_depth)" in gauge
    assert "rate(" not in gauge


# --- the decision -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("load", "per", "current", "tolerance", "expected"),
    [
        (600, 50, 2, 0.1, 12),
        (100, 50, 12, 0.1, 2),
        (0, 50, 5, 0.1, 0),
        (0.65, 0.05, 1, 0.0, 13),  # not 14: floating point
        (108, 50, 2, 0.1, 2),  # +8 %: within tolerance
        (92, 50, 2, 0.1, 2),  # -8 %
        (112, 50, 2, 0.1, 3),  # +12 %
        (601, 50, 12, 0.0, 13),
    ],
)
def test_wanted(load: float, per: float, current: int, tolerance: float, expected: int) -> None:
    assert wanted(load, per, current, tolerance) == expected


CASES: list[tuple[str, dict[str, Any], int, dict[str, list[tuple[float, float]]], str, int]] = [
    # name, policy changes, current, readings, action, desired
    ("load up, held for the window", {}, 2, {"requests": flat(600)}, "up", 12),
    ("load down, held for the window", {}, 12, {"requests": flat(100)}, "down", 2),
    ("steady", {}, 12, {"requests": flat(600)}, "hold", 12),
    ("never above max", {}, 2, {"requests": flat(5000)}, "up", 20),
    ("never below min", {}, 4, {"requests": flat(0)}, "down", 2),
    (
        "up only once held for the whole up window",
        {},
        2,
        {"requests": flat(100, seconds=300, end=NOW - 30) + flat(600, seconds=30)},
        "hold",
        2,
    ),
    (
        "down only once low for the whole down window",
        {},
        12,
        {"requests": flat(600, seconds=300, end=NOW - 120) + flat(100, seconds=115)},
        "hold",
        12,
    ),
    (
        "a dip within the down window keeps the highest",
        {},
        12,
        {"requests": flat(400, seconds=300, end=NOW - 120) + flat(100, seconds=115)},
        "down",
        8,
    ),
    # A new group: its series begins with the instances whose rate is known yet (a sum of a part of
    # them), seen for less than a window: neither scaled down nor up on it.
    ("a series younger than the down window: no scale-down", {}, 4, {"requests": flat(50, seconds=10)}, "hold", 4),
    ("a series younger than the up window: no scale-up", {}, 2, {"requests": flat(600, seconds=55)}, "hold", 2),
    ("a series as old as the up window: up", {}, 2, {"requests": flat(600, seconds=60)}, "up", 12),
    ("a series as old as the down window: down", {}, 4, {"requests": flat(50, seconds=300)}, "down", 2),
    ("up step", {"scale_up": {"step": 3}}, 2, {"requests": flat(600)}, "up", 5),
    ("down step", {"scale_down": {"step": 4}}, 12, {"requests": flat(100)}, "down", 8),
    ("target utilisation", {"target": 0.5}, 2, {"requests": flat(600)}, "up", 20),
    ("window 0: the newest point", {"scale_up": {"window_seconds": 0}}, 2, {"requests": flat(300, seconds=0)}, "up", 6),
    (
        "noise ±8 %: nothing",
        {},
        12,
        {"requests": [(NOW - 300 + 5 * i, 600 * (1.08 if i % 2 else 0.92)) for i in range(61)]},
        "hold",
        12,
    ),
    ("no data freezes", {}, 12, {}, "freeze", 12),
    ("an empty series freezes", {}, 12, {"requests": []}, "freeze", 12),
    ("stale data freezes", {}, 12, {"requests": flat(0, end=NOW - 120)}, "freeze", 12),
    ("frozen, still brought into new bounds", {"min": 14, "max": 20}, 12, {}, "up", 14),
    (
        "the most demanding signal wins",
        {"signals": [*REQ, {"signal": "cpu", "baseline": 0.5}]},
        2,
        {"requests": flat(100), "cpu": flat(4.0)},
        "up",
        8,
    ),
    (
        "one signal missing freezes all",
        {"signals": [*REQ, {"signal": "cpu", "baseline": 0.5}]},
        2,
        {"requests": flat(600)},
        "freeze",
        2,
    ),
    (
        "a custom series",
        {"signals": [{"signal": "custom", "series": "queue_depth", "baseline": 10}]},
        2,
        {"custom:queue_depth": flat(95)},
        "up",
        10,
    ),
]


@pytest.mark.parametrize(
    ("changes", "current", "readings", "action", "desired"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_decide(
    changes: dict[str, Any], current: int, readings: dict[str, list[tuple[float, float]]], action: str, desired: int
) -> None:
    decision = decide(policy(**changes), current=current, readings=readings, now=NOW, stale_seconds=60)
    assert (decision.action, decision.desired) == (action, desired), decision.reason
    assert decision.changes == (desired != current)


def test_the_reason_holds_the_numbers() -> None:
    decision = decide(policy(), current=2, readings={"requests": flat(600)}, now=NOW, stale_seconds=60)
    assert decision.reason == "requests 600 requests/s vs 50 per instance (wants 12) → 12 (was 2, bounds 2..20)"
    (view,) = decision.signals
    assert (view.load, view.per_instance, view.utilisation, view.wanted) == (600, 50, 6.0, 12)
    frozen = decide(policy(), current=2, readings={}, now=NOW, stale_seconds=60)
    assert frozen.reason == "frozen: requests: no data"


def test_noise_gives_no_action_over_ten_minutes() -> None:
    """±8 % noise around 600 req/s at 12 instances, decided every 15 s for 10 minutes: no change."""
    import random

    rng = random.Random(7)
    series = [(NOW - 900 + 5 * i, 600 * (1 + rng.uniform(-0.08, 0.08))) for i in range(301)]
    actions = []
    for k in range(40):
        now = NOW - 600 + 15 * k
        seen = [p for p in series if p[0] <= now]
        actions.append(decide(policy(), current=12, readings={"requests": seen}, now=now, stale_seconds=60).action)
    assert set(actions) == {"hold"}


@pytest.mark.parametrize(
    ("spec", "policy_", "recorded", "expected"),
    [
        (3, None, 12, 3),
        (2, policy(), None, 2),
        (2, policy(), 0, 2),
        (2, policy(), 12, 12),
        (2, policy(), 40, 20),
        (5, policy(min=5, max=8), 2, 5),
    ],
)
def test_effective_instances(spec: int, policy_: Policy | None, recorded: int | None, expected: int) -> None:
    assert effective_instances(spec, policy_, recorded) == expected


@pytest.mark.parametrize(
    ("total", "room", "expected"),
    [
        (12, {"a": 200, "b": 100}, {"a": 8, "b": 4}),
        (2, {"a": 200, "b": 100}, {"a": 1, "b": 1}),
        (13, {"a": 2, "b": 1}, {"a": 9, "b": 4}),
        (3, {"a": 0, "b": 0}, {"a": 2, "b": 1}),
    ],
)
def test_split_in_proportion_to_spare_room(total: int, room: dict[str, int], expected: dict[str, int]) -> None:
    assert split_counts(total, room) == expected
    assert sum(split_counts(total, room).values()) == total


@pytest.mark.parametrize(
    ("instances", "expected"),
    [(6, (6, 20)), (1, (1, 20)), (30, (30, 30)), (0, None)],
)
def test_a_manual_scale_makes_the_count_the_floor(instances: int, expected: tuple[int, int] | None) -> None:
    made = manual(policy(), instances)
    if expected is None:
        assert made is None
        return
    assert made is not None
    parsed = parse_policy(made)
    assert parsed is not None
    assert (parsed.min, parsed.max) == expected
    assert parsed.signals == policy().signals


def test_a_new_group_is_not_scaled_down_while_its_rates_ramp_in() -> None:
    """4 instances deployed at ``t0`` on 200m (50m each, their right count): a new instance's rate over
    1m counts the part of the minute before it existed as no load, so the group reads ~(t - t0)/60 of
    its load (83m at t0 + 35 s in the full run of 2026-12-03, which scaled it to 2 and back up to 4)."""
    cpu = policy(
        signals=[{"signal": "cpu", "baseline": 0.05}],
        scale_up={"window_seconds": 10},
        scale_down={"window_seconds": 20},
    )
    t0 = NOW - 35
    ramp = [(t0 + 10 + 5 * i, 0.2 * (10 + 5 * i) / 60) for i in range(6)]  # t0 + 10 s … t0 + 35 s
    assert decide(cpu, current=4, readings={"cpu": ramp}, now=NOW, stale_seconds=60).action == "down"
    settled = settled_at(t0, 5)
    assert settled == t0 + 65
    held = decide(cpu, current=4, readings={"cpu": ramp}, now=NOW, stale_seconds=60, settled=settled)
    assert (held.action, held.desired) == ("hold", 4), held.reason
    assert "held: the rates have measured the instances there now for 0s of the window" in held.reason
    # Once settled for the whole window, the load decides again (a gauge, memory, is not held at all).
    later = settled + 20
    steady = [(t, 0.1) for t in range(int(settled), int(later) + 1, 5)]
    assert decide(cpu, current=4, readings={"cpu": steady}, now=later, stale_seconds=60, settled=settled).desired == 2
    memory = policy(signals=[{"signal": "memory", "baseline": 100}], scale_down={"window_seconds": 20})
    low = decide(memory, current=4, readings={"memory": flat(100, seconds=20)}, now=NOW, stale_seconds=60, settled=NOW)
    assert low.desired == 2
