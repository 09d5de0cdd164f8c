"""Statistics rollups, chargeback, growth and the lost-nodes question: tables of cases, plus a random
fleet whose levels must add up exactly."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest

from dockyard.domain.capacity import NodeInfo, Usage
from dockyard.domain.errors import InvalidInput
from dockyard.domain.statistics import (
    BYTE_SECONDS_PER_GIB_HOUR,
    LEVELS,
    MILLI_CORE_SECONDS_PER_CORE_HOUR,
    Amounts,
    Price,
    Row,
    Sample,
    check_step,
    cost_of,
    day_of,
    growth,
    lost_nodes,
    low_efficiency,
    price_on,
    price_rows,
    roll_up,
    sample_amounts,
    step_rows,
    used_millis,
    without_nodes,
)

GI = 2**30
DAY = dt.date(2026, 12, 1)
T0 = dt.datetime(2026, 12, 1, tzinfo=dt.UTC).timestamp()


def sample(
    instance: str = "p1",
    *,
    group: str = "prod",
    app: str = "web",
    system: str = "shop",
    cluster: str = "a",
    idc: str = "bj",
    cpu: int = 500,
    memory: int = GI,
    cpu_used: int | None = 100,
    memory_used: int | None = GI // 2,
) -> Sample:
    return Sample(cluster, idc, system, app, group, instance, cpu, memory, cpu_used, memory_used)


@pytest.mark.parametrize(
    ("s", "seconds", "want"),
    [
        # used below requested: billed = requested
        (sample(), 60, Amounts(30_000, 6_000, 30_000, 60 * GI, 30 * GI, 60 * GI, 60, 0)),
        # used above requested (a burst): billed = used, per resource
        (
            sample(cpu_used=800, memory_used=GI // 4),
            10,
            Amounts(5_000, 8_000, 8_000, 10 * GI, 10 * GI // 4, 10 * GI, 10, 0),
        ),
        # not measured: billed as requested, counted as unmeasured
        (sample(cpu_used=None, memory_used=None), 60, Amounts(30_000, 0, 30_000, 60 * GI, 0, 60 * GI, 60, 60)),
        # half measured is not measured
        (sample(memory_used=None), 60, Amounts(30_000, 6_000, 30_000, 60 * GI, 0, 60 * GI, 60, 60)),
        # no requests (BestEffort): billed = used
        (sample(cpu=0, memory=0), 60, Amounts(0, 6_000, 6_000, 0, 30 * GI, 30 * GI, 60, 0)),
    ],
)
def test_one_instance_one_step(s: Sample, seconds: int, want: Amounts) -> None:
    assert sample_amounts(s, seconds) == want


@pytest.mark.parametrize(
    ("cores", "millis"), [(0.0, 0), (0.25, 250), (0.0004, 0), (0.0005, 1), (1.9999, 2000), (-0.001, 0)]
)
def test_used_millis(cores: float, millis: int) -> None:
    assert used_millis(cores) == millis


@pytest.mark.parametrize("step", [0, -60, 7, 86401])
def test_a_step_must_divide_a_day(step: int) -> None:
    with pytest.raises(InvalidInput) as e:
        check_step(step)
    assert e.value.field == "step"


def test_step_rows_group_is_the_sum_of_its_instances() -> None:
    samples = [
        sample("p1"),
        sample("p2", cpu_used=900),
        sample("p3", cluster="b", idc="sh"),
        sample("q1", group="gray"),
    ]
    instances, groups = step_rows(samples, at=T0 + 3600, step=60)
    assert {r.day for r in instances + groups} == {DAY}
    assert len(instances) == 4
    assert [(r.group, r.cluster) for r in groups] == [("prod", "a"), ("prod", "b"), ("gray", "a")]
    prod_a = [r.amounts for r in instances if r.group == "prod" and r.cluster == "a"]
    assert groups[0].amounts == prod_a[0] + prod_a[1]
    assert groups[0].amounts.cpu_billed == 500 * 60 + 900 * 60


def test_the_last_step_of_a_day_is_that_day() -> None:
    assert day_of(T0 + 86400 - 60) == DAY
    assert day_of(T0 + 86400) == DAY + dt.timedelta(days=1)


PRICES = [
    Price("a", dt.date(2026, 1, 1), Decimal("0.04"), Decimal("0.005")),
    Price("a", DAY, Decimal("0.05"), Decimal("0.006")),
    Price("b", dt.date(2026, 12, 2), Decimal("1"), Decimal("1")),
]


@pytest.mark.parametrize(
    ("cluster", "day", "core_hour"),
    [
        ("a", DAY - dt.timedelta(days=1), Decimal("0.04")),
        ("a", DAY, Decimal("0.05")),
        ("a", DAY + dt.timedelta(days=9), Decimal("0.05")),
        ("b", DAY, None),  # not priced yet that day
        ("c", DAY, None),
    ],
)
def test_the_price_in_force(cluster: str, day: dt.date, core_hour: Decimal | None) -> None:
    found = price_on(PRICES, cluster, day)
    assert (found.core_hour if found else None) == core_hour


@pytest.mark.parametrize(
    ("amounts", "price", "cost"),
    [
        # one core-hour and one GiB-hour
        (
            Amounts(cpu_billed=MILLI_CORE_SECONDS_PER_CORE_HOUR, memory_billed=BYTE_SECONDS_PER_GIB_HOUR),
            PRICES[1],
            Decimal("0.056000"),
        ),
        # a day of 2 cores and 4 GiB
        (
            Amounts(cpu_billed=2000 * 86400, memory_billed=4 * GI * 86400),
            PRICES[1],
            Decimal("2.400000") + Decimal("0.576000"),
        ),
        # a third of a milli-core-hour rounds half-even to the micro-unit
        (Amounts(cpu_billed=1200), Price("a", DAY, Decimal("1"), Decimal("0")), Decimal("0.000333")),
        (Amounts(), PRICES[1], Decimal("0.000000")),
    ],
)
def test_cost(amounts: Amounts, price: Price, cost: Decimal) -> None:
    assert cost_of(amounts, price) == cost


def fleet(seed: int, days: int = 3) -> list[Row]:
    """Group rows of a random fleet: several systems, apps, groups, clusters in two IDCs, some days."""
    rng = random.Random(seed)
    rows: list[Row] = []
    clusters = [("a", "bj"), ("b", "bj"), ("c", "sh")]
    for d in range(days):
        at = T0 + d * 86400
        samples = []
        for s in range(3):
            for a in range(3):
                for g in range(2):
                    for i in range(rng.randint(0, 4)):
                        cluster, idc = rng.choice(clusters)
                        cpu_used = rng.choice([None, rng.randint(0, 4000)])
                        samples.append(
                            sample(
                                f"s{s}a{a}g{g}-{i}",
                                system=f"s{s}",
                                app=f"a{a}",
                                group=f"g{g}",
                                cluster=cluster,
                                idc=idc,
                                cpu=rng.choice([100, 250, 1000, 2000]),
                                memory=rng.choice([GI // 8, GI, 3 * GI]),
                                cpu_used=cpu_used,
                                memory_used=None if cpu_used is None else rng.randint(0, 4 * GI),
                            )
                        )
        for step in range(0, 86400, 3600 * 6):
            rows.extend(step_rows(samples, at=at + step, step=3600 * 6)[1])
    return rows


@pytest.mark.parametrize("seed", range(5))
def test_every_level_sums_the_level_below_exactly(seed: int) -> None:
    rows = price_rows(roll_up(fleet(seed), "group", daily=True, by_cluster=True), PRICES)
    total = sum((r.amounts for r in rows), Amounts())
    cost = sum((r.cost or Decimal(0) for r in rows), Decimal(0))
    for level in LEVELS:
        up = roll_up(rows, level)
        assert sum((r.amounts for r in up), Amounts()) == total, level
        assert sum((r.cost or Decimal(0) for r in up), Decimal(0)) == cost, level
    # group → app → system, row by row
    apps = roll_up(rows, "app")
    for system in roll_up(rows, "system"):
        assert sum((r.amounts for r in apps if r.system == system.system), Amounts()) == system.amounts
    groups = roll_up(rows, "group")
    for app in apps:
        assert sum((r.amounts for r in groups if (r.system, r.app) == (app.system, app.app)), Amounts()) == app.amounts
    # clusters → IDC
    clusters = roll_up(rows, "cluster")
    for idc in roll_up(rows, "idc"):
        assert sum((r.amounts for r in clusters if r.idc == idc.idc), Amounts()) == idc.amounts
    # daily rows sum to the period's
    daily = roll_up(rows, "system", daily=True)
    assert sum((r.amounts for r in daily), Amounts()) == total


def days_of(effs: list[float], group: str = "g") -> list[Row]:
    return [
        Row(
            DAY + dt.timedelta(days=i),
            "s",
            "a",
            group,
            "c",
            "x",
            amounts=Amounts(cpu_requested=1000, cpu_used=int(e * 1000)),
        )
        for i, e in enumerate(effs)
    ]


@pytest.mark.parametrize(
    ("effs", "low"),
    [
        ([0.1] * 7, True),
        ([0.1] * 6, False),  # not a week yet
        ([0.9] + [0.29] * 7, True),  # the last seven count
        ([0.1] * 6 + [0.3], False),  # 30 % is not below
        ([0.1] * 3 + [0.5] + [0.1] * 3, False),
    ],
)
def test_low_efficiency_flags_a_week_below_30_percent(effs: list[float], low: bool) -> None:
    assert (("s", "a", "g") in low_efficiency(days_of(effs))) is low


def test_growth_ranks_applications_by_requested_cpu() -> None:
    last = DAY + dt.timedelta(days=29)

    def row(day: dt.date, app: str, cpu: int, memory: int = 0) -> Row:
        return Row(day, "s", app, "g", "c", "x", amounts=Amounts(cpu_requested=cpu, memory_requested=memory))

    rows = [
        row(DAY, "flat", 100),
        row(last, "flat", 100),
        row(DAY, "grew", 100),
        row(last, "grew", 900),
        row(last, "new", 500),
        row(DAY, "gone", 700),
        row(DAY, "mem", 100, 0),
        row(last, "mem", 100, GI),
        row(DAY + dt.timedelta(days=3), "middle", 10**9),  # only the first and last days count
    ]
    ranked = growth(rows, first=DAY, last=last)
    assert [(g.app, g.cpu) for g in ranked] == [("grew", 800), ("new", 500), ("mem", 0), ("flat", 0), ("gone", -700)]
    assert ranked[2].memory == GI
    assert [g.app for g in growth(rows, first=DAY, last=last, limit=2)] == ["grew", "new"]


def node(name: str, cpu: int = 4000, memory: int = 8 * GI) -> NodeInfo:
    return NodeInfo(name, (("kubernetes.io/hostname", name),), (), False, True, cpu, memory, 110)


def pod(name: str, on: str, group: str, cpu: int = 1000, app: str = "web", priority: int = 0) -> Usage:
    return Usage("shop", name, on, "Running", cpu, GI, priority, app, group, "", None, False)


def test_the_largest_nodes_are_lost_first() -> None:
    nodes = [node("n1"), node("n2", cpu=8000), node("n3", memory=16 * GI), node("n0")]
    assert lost_nodes(nodes, 2) == ["n2", "n3"]
    assert lost_nodes(nodes, 0) == []


@pytest.mark.parametrize(
    ("pods", "lost", "want"),
    [
        # n1's two instances move to n2 and n3's free room
        ([pod("a1", "n1", "a"), pod("a2", "n1", "a")], ["n1"], [("a", 2, 2)]),
        # n2 and n3 are full: nothing moves
        (
            [pod("a1", "n1", "a")] + [pod(f"f{i}{n}", n, "full") for n in ("n2", "n3") for i in range(4)],
            ["n1"],
            [("a", 1, 0)],
        ),
        # room for 3 of 4 (n3 keeps 1 core free)
        (
            [pod(f"a{i}", "n1", "a") for i in range(4)]
            + [pod(f"f{i}", "n3", "full") for i in range(3)]
            + [pod("h", "n2", "h", 2000)],
            ["n1"],
            [("a", 4, 3)],
        ),
        # the higher priority goes first and takes the room
        (
            [pod("lo", "n1", "lo", 4000), pod("hi", "n1", "hi", 4000, priority=10), pod("x", "n2", "x", 4000)],
            ["n1"],
            [("hi", 1, 1), ("lo", 1, 0)],
        ),
        # losing no node displaces nothing
        ([pod("a1", "n1", "a")], [], []),
    ],
)
def test_without_nodes(pods: list[Usage], lost: list[str], want: list[tuple[str, int, int]]) -> None:
    nodes = [node("n1"), node("n2"), node("n3")]
    found = without_nodes(nodes, pods, {}, lost)
    assert [(d.group, d.instances, d.fit) for d in found] == want
    for d in found:
        assert d.fits == (d.fit == d.instances)
        assert (d.reason == "") == d.fits
