"""The metrics catalog, the roll-up rules and the chart queries (pure)."""

from __future__ import annotations

import pytest

from dockyard.domain.errors import InvalidInput
from dockyard.domain.metrics import (
    LEVELS,
    METRICS,
    Scope,
    Target,
    Window,
    check_level,
    check_metric,
    duration,
    label_value,
    query,
    recorded_names,
    rollup_rules,
    selector,
    why_empty,
    window,
)

SIXTEEN = {
    "container_cpu_usage_seconds_total",
    "container_memory_usage_bytes",
    "container_memory_rss",
    "container_memory_cache",
    "container_memory_working_set_bytes",
    *(
        f"container_network_{d}_{w}_total"
        for d in ("receive", "transmit")
        for w in ("bytes", "packets", "packets_dropped", "errors")
    ),
}


def test_the_catalog_covers_the_per_instance_series() -> None:
    # The list: 1 CPU, 4 memory and 8 network series names (13 names).
    assert {m.source for m in METRICS.values()} == SIXTEEN
    assert len(METRICS) == len(SIXTEEN) == 13


def test_every_metric_is_recorded_at_every_level_once() -> None:
    records = [r["record"] for r in rollup_rules()["groups"][0]["rules"]]
    assert records == recorded_names()
    assert len(set(records)) == len(METRICS) * len(LEVELS) + 1  # and the join table, first


def test_the_join_table_is_grouped_once_and_every_instance_rule_joins_it() -> None:
    rules = rollup_rules()["groups"][0]["rules"]
    assert rules[0] == {
        "record": "instance:dockyard_instance_info:group",
        "expr": "group by (cluster, namespace, pod, idc, system, app, group, version) (dockyard_instance_info)",
    }
    instance = [r for r in rules[1:] if r["record"].startswith("instance:")]
    assert len(instance) == len(METRICS)
    for rule in instance:
        assert rule["expr"].endswith(
            "* on (cluster, namespace, pod) group_left (idc, system, app, group, version) "
            "instance:dockyard_instance_info:group"
        )
        assert "dockyard_instance_info)" not in rule["expr"]  # no group by of its own


def test_each_level_sums_the_one_below_in_order() -> None:
    rules = rollup_rules()["groups"][0]["rules"]
    assert len(rollup_rules()["groups"]) == 1
    cpu = [r for r in rules if "cpu" in r["record"]]
    assert len(cpu) == len(LEVELS)
    assert [r["record"].split(":")[0] for r in cpu] == list(LEVELS)
    assert cpu[1]["expr"] == "sum by (idc, system, app, group) (instance:container_cpu_usage_seconds:rate1m)"
    assert cpu[4]["expr"] == "sum by (idc) (system:container_cpu_usage_seconds:rate1m)"
    network = next(r for r in rules if r["record"] == "instance:container_network_receive_bytes:rate1m")
    assert 'container!=""' not in network["expr"]  # pod-level series: container="" on the sandbox
    assert 'interface!~"lo|' in network["expr"]


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        ("web", '"web"'),
        ('a"} or vector(1) #', '"a\\"} or vector(1) #"'),
        ("back\\slash", '"back\\\\slash"'),
        ("line\nbreak", '"line\\nbreak"'),
        ("", '""'),
    ],
)
def test_label_values_are_escaped(value: str, literal: str) -> None:
    assert label_value(value) == literal


@pytest.mark.parametrize(
    ("level", "scope", "promql"),
    [
        (
            "instance",
            Scope("shop", "web", "prod"),
            'sum by (cluster, pod) (instance:container_cpu_usage_seconds:rate1m{app="web",group="prod",system="shop"})',
        ),
        (
            "group",
            Scope("shop", "web", "prod"),
            "sum by (system, app, group) "
            '(group:container_cpu_usage_seconds:rate1m{app="web",group="prod",system="shop"})',
        ),
        (
            "group",
            Scope("shop", "web"),
            'sum by (system, app, group) (group:container_cpu_usage_seconds:rate1m{app="web",system="shop"})',
        ),
        ("app", Scope("shop"), 'sum by (system, app) (app:container_cpu_usage_seconds:rate1m{system="shop"})'),
        ("system", Scope("shop"), 'sum by (system) (system:container_cpu_usage_seconds:rate1m{system="shop"})'),
        ("idc", Scope("shop"), 'sum by (idc) (system:container_cpu_usage_seconds:rate1m{system="shop"})'),
        (
            "idc",
            Scope("shop", "web", "prod"),
            'sum by (idc) (group:container_cpu_usage_seconds:rate1m{app="web",group="prod",system="shop"})',
        ),
        (
            "system",
            Scope("shop", idc="a"),
            'sum by (system) (system:container_cpu_usage_seconds:rate1m{idc="a",system="shop"})',
        ),
    ],
)
def test_chart_queries(level: str, scope: Scope, promql: str) -> None:
    assert query(METRICS["cpu"], check_level(level, scope), scope) == promql


def test_a_hostile_name_stays_inside_its_string() -> None:
    promql = query(METRICS["memory_rss"], "system", Scope('x"}) or vector(1) or sum({a="'))
    assert promql == 'sum by (system) (system:container_memory_rss:sum{system="x\\"}) or vector(1) or sum({a=\\""})'


@pytest.mark.parametrize(
    ("level", "scope", "message"),
    [
        ("pod", Scope("shop"), "unknown level 'pod'; known: instance, group, app, system, idc"),
        ("app", Scope("shop", "web", "prod"), "level 'app' is above this group"),
        ("system", Scope("shop", "web"), "level 'system' is above this app"),
    ],
)
def test_bad_levels_name_the_field(level: str, scope: Scope, message: str) -> None:
    with pytest.raises(InvalidInput) as info:
        check_level(level, scope)
    assert info.value.field == "level"
    assert message in str(info.value)


def test_unknown_metric_names_the_field_and_the_known_ones() -> None:
    with pytest.raises(InvalidInput) as info:
        check_metric("cpu) or up")
    assert info.value.field == "metric"
    assert "known: cpu, memory_usage" in str(info.value)


def test_selector_refuses_label_names_that_are_not_dockyards() -> None:
    with pytest.raises(ValueError, match="not one of Dockyard's"):
        selector("x", {"a=~": "b"})


# --- Windows and empty charts -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("range_", "step", "expected"),
    [
        (None, None, Window(end=1000.0)),
        ("1h", None, Window(end=1000.0, range=3600.0, step=30.0)),
        ("5m", None, Window(end=1000.0, range=300.0, step=5.0)),
        ("1h", "1m", Window(end=1000.0, range=3600.0, step=60.0)),
        ("7d", "15m", Window(end=1000.0, range=604800.0, step=900.0)),
    ],
)
def test_windows(range_: str | None, step: str | None, expected: Window) -> None:
    assert window(range_, step, now=1000.0) == expected


@pytest.mark.parametrize(
    ("range_", "step", "field", "message"),
    [
        ("1w", None, "range", "range must be a number and a unit s, m, h or d"),
        ("8d", None, "range", "range may be at most 7d"),
        ("1h", "1s", "step", "step must be at least 5s"),
        ("1d", "5s", "step", "more than 1000 points"),
        (None, "1m", "step", "step needs a range"),
        ("0m", None, "range", "range must be"),
        ("1h) or up", None, "range", "range must be"),
    ],
)
def test_bad_windows_name_the_field(range_: str | None, step: str | None, field: str, message: str) -> None:
    with pytest.raises(InvalidInput) as info:
        window(range_, step, now=0.0)
    assert info.value.field == field
    assert message in str(info.value)


def test_durations() -> None:
    assert [duration(t, "x") for t in ("30s", "15m", "2h", "1d")] == [30, 900, 7200, 86400]


RULE = "group:container_cpu_usage_seconds:rate1m"
UP_KUBELET = Target("kubelet", "kwok-cadvisor", up=True, error="", url="u")
UP_DOCKYARD = Target("dockyard", "dockyard", up=True, error="", url="u")


@pytest.mark.parametrize(
    ("recorded", "targets", "source", "info", "code", "says"),
    [
        (set(), [UP_KUBELET, UP_DOCKYARD], True, True, "rule_not_loaded", f"no recording rule {RULE}"),
        ({RULE}, [UP_DOCKYARD], True, True, "no_target", "no target of job 'kubelet'"),
        (
            {RULE},
            [Target("kubelet", "p", up=False, error="connection refused", url="u"), UP_DOCKYARD],
            True,
            True,
            "target_down",
            "connection refused",
        ),
        ({RULE}, [UP_KUBELET], True, True, "no_target", "no target of job 'dockyard'"),
        (
            {RULE},
            [UP_KUBELET, Target("dockyard", "d", up=False, error="server returned HTTP status 401", url="u")],
            True,
            True,
            "target_down",
            "401",
        ),
        ({RULE}, [UP_KUBELET, UP_DOCKYARD], True, False, "series_absent", "dockyard_instance_info has no instance"),
        ({RULE}, [UP_KUBELET, UP_DOCKYARD], False, True, "series_absent", "no container_cpu_usage_seconds_total"),
        ({RULE}, [UP_KUBELET, UP_DOCKYARD], True, True, "no_data", "rates need two scrapes"),
    ],
)
def test_an_empty_chart_says_why(
    recorded: set[str], targets: list[Target], source: bool, info: bool, code: str, says: str
) -> None:
    reason = why_empty(
        rule=RULE,
        recorded=recorded,
        targets=targets,
        source_present=source,
        info_present=info,
        scope=Scope("shop", "web", "prod"),
        metric=METRICS["cpu"],
    )
    assert reason.code == code
    assert says in reason.message
