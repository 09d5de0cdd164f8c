"""The metrics catalog, the roll-up rules and the chart queries (pure)."""

from __future__ import annotations

import pytest

from dockyard.domain.errors import InvalidInput
from dockyard.domain.metrics import (
    LEVELS,
    METRICS,
    Scope,
    check_level,
    check_metric,
    label_value,
    query,
    recorded_names,
    rollup_rules,
    selector,
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
    assert len(set(records)) == len(METRICS) * len(LEVELS)


def test_each_level_sums_the_one_below_in_order() -> None:
    rules = rollup_rules()["groups"][0]["rules"]
    assert len(rollup_rules()["groups"]) == 1
    cpu = [r for r in rules if "cpu" in r["record"]]
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
