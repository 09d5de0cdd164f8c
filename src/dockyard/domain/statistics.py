"""Resource statistics and chargeback (pure): what each instance asked for and used, step by step,
rolled up per day and group, then to application, system, cluster and IDC, priced per cluster.

Units are exact integers, so every level is the sum of the level below to the last unit:

- CPU in **milli-core-seconds** (1 core-hour = 3,600,000), memory in **byte-seconds**
  (1 GiB-hour = 3,865,470,566,400).
- ``requested`` is what an instance's containers request (flavor) for every step it is bound to a node;
  ``used`` is its measured CPU rate (rounded to whole millicores) and working set (bytes) at the step;
  ``billed`` is **max(requested, used) per instance and step** (a step without a measurement bills
  what was requested, and counts as ``unmeasured``).
- A cost is ``billed × price`` of the row's cluster on the row's day, rounded half-even to
  :data:`COST_QUANTUM` once per (day, cluster, system, app, group) row; every level above sums those
  rounded costs, so costs reconcile exactly too.

:func:`step_rows` turns one step's samples into instance and group rows; :func:`roll_up` sums group
rows to a level; :func:`price_rows` attaches costs; :func:`growth` ranks applications by how much
their requests grew; :func:`without_nodes` answers which groups' instances would not fit if a cluster
lost nodes (through :func:`dockyard.domain.fit.place`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Literal

from dockyard.domain.capacity import APP_LABEL, GROUP_LABEL, NodeInfo, PodShape, Usage
from dockyard.domain.errors import InvalidInput
from dockyard.domain.fit import PodList, place

MILLI_CORE_SECONDS_PER_CORE_HOUR = 3_600_000
BYTE_SECONDS_PER_GIB_HOUR = 2**30 * 3600
COST_QUANTUM = Decimal("0.000001")
LOW_EFFICIENCY = 0.30  # a group below this CPU efficiency every day of :data:`LOW_DAYS` is flagged
LOW_DAYS = 7

Level = Literal["group", "app", "system", "cluster", "idc"]
LEVELS: tuple[Level, ...] = ("group", "app", "system", "cluster", "idc")
# The dimensions a row keeps at each level (a row is always of one day unless rolled up over days).
LEVEL_KEYS: Mapping[Level, tuple[str, ...]] = {
    "group": ("system", "app", "group"),
    "app": ("system", "app"),
    "system": ("system",),
    "cluster": ("idc", "cluster"),
    "idc": ("idc",),
}


@dataclass(frozen=True, slots=True)
class Amounts:
    """Resource amounts over some instance-steps (see the module for units)."""

    cpu_requested: int = 0  # milli-core-seconds
    cpu_used: int = 0
    cpu_billed: int = 0
    memory_requested: int = 0  # byte-seconds
    memory_used: int = 0
    memory_billed: int = 0
    seconds: int = 0  # instance-seconds counted
    unmeasured: int = 0  # instance-seconds without a measurement (billed as requested)

    def __add__(self, other: Amounts) -> Amounts:
        return Amounts(
            self.cpu_requested + other.cpu_requested,
            self.cpu_used + other.cpu_used,
            self.cpu_billed + other.cpu_billed,
            self.memory_requested + other.memory_requested,
            self.memory_used + other.memory_used,
            self.memory_billed + other.memory_billed,
            self.seconds + other.seconds,
            self.unmeasured + other.unmeasured,
        )

    def as_tuple(self) -> tuple[int, ...]:
        return (
            self.cpu_requested,
            self.cpu_used,
            self.cpu_billed,
            self.memory_requested,
            self.memory_used,
            self.memory_billed,
            self.seconds,
            self.unmeasured,
        )

    @property
    def cpu_efficiency(self) -> float | None:
        """used / requested CPU; None when nothing was requested."""
        return self.cpu_used / self.cpu_requested if self.cpu_requested else None

    @property
    def memory_efficiency(self) -> float | None:
        return self.memory_used / self.memory_requested if self.memory_requested else None


@dataclass(frozen=True, slots=True)
class Sample:
    """One instance at one step: where it runs, what it requests, what it used (None: not measured)."""

    cluster: str
    idc: str
    system: str
    app: str
    group: str
    instance: str
    cpu_requested_millis: int
    memory_requested: int  # bytes
    cpu_used_millis: int | None
    memory_used: int | None  # bytes


@dataclass(frozen=True, slots=True)
class Row:
    """The amounts of one day (None when rolled up over days), at the dimensions its level keeps
    (others ""); ``cost`` in the currency of the price table (None: no price for the cluster)."""

    day: dt.date | None
    system: str = ""
    app: str = ""
    group: str = ""
    cluster: str = ""
    idc: str = ""
    instance: str = ""
    amounts: Amounts = field(default_factory=Amounts)
    cost: Decimal | None = None

    @property
    def key(self) -> tuple[str, str, str, str, str, str]:
        return (self.system, self.app, self.group, self.cluster, self.idc, self.instance)


@dataclass(frozen=True, slots=True)
class Price:
    """A cluster's prices from ``since`` on: per core-hour and per GiB-hour."""

    cluster: str
    since: dt.date
    core_hour: Decimal
    gib_hour: Decimal


def day_of(at: float) -> dt.date:
    """The UTC day a step starting at Unix time ``at`` belongs to."""
    return dt.datetime.fromtimestamp(at, dt.UTC).date()


def check_step(step: int) -> None:
    """A step must divide a day, so no step straddles two days."""
    if step <= 0 or 86400 % step:
        raise InvalidInput("step", f"step must be a positive number of seconds dividing 86400 (got {step})")


def used_millis(cores: float) -> int:
    """A measured CPU rate in whole millicores (half up), never negative."""
    return max(0, int(cores * 1000 + 0.5))


def sample_amounts(sample: Sample, seconds: int) -> Amounts:
    """One instance over one step of ``seconds``: requested, used and billed (max of both)."""
    cpu_used = sample.cpu_used_millis
    memory_used = sample.memory_used
    measured = cpu_used is not None and memory_used is not None
    cpu_used = cpu_used or 0
    memory_used = memory_used or 0
    return Amounts(
        cpu_requested=sample.cpu_requested_millis * seconds,
        cpu_used=cpu_used * seconds,
        cpu_billed=max(sample.cpu_requested_millis, cpu_used) * seconds,
        memory_requested=sample.memory_requested * seconds,
        memory_used=memory_used * seconds,
        memory_billed=max(sample.memory_requested, memory_used) * seconds,
        seconds=seconds,
        unmeasured=0 if measured else seconds,
    )


def step_rows(samples: Iterable[Sample], *, at: float, step: int) -> tuple[list[Row], list[Row]]:
    """One step's samples as (instance rows, group rows) of the step's day; each group row (per
    cluster) is exactly the sum of its instances' rows."""
    check_step(step)
    day = day_of(at)
    instances: dict[tuple[str, ...], Row] = {}
    groups: dict[tuple[str, ...], Row] = {}
    for sample in samples:
        amounts = sample_amounts(sample, step)
        where = (sample.system, sample.app, sample.group, sample.cluster, sample.idc)
        ikey = (*where, sample.instance)
        found = instances.get(ikey)
        instances[ikey] = Row(
            day, *where, sample.instance, amounts=amounts if found is None else found.amounts + amounts
        )
        found = groups.get(where)
        groups[where] = Row(day, *where, amounts=amounts if found is None else found.amounts + amounts)
    return list(instances.values()), list(groups.values())


def price_on(prices: Sequence[Price], cluster: str, day: dt.date) -> Price | None:
    """The cluster's price in force on ``day`` (the latest ``since`` not after it), if any."""
    best: Price | None = None
    for price in prices:
        if price.cluster == cluster and price.since <= day and (best is None or price.since > best.since):
            best = price
    return best


def cost_of(amounts: Amounts, price: Price) -> Decimal:
    """``billed × price``, rounded half-even to :data:`COST_QUANTUM`."""
    cpu = Decimal(amounts.cpu_billed) * price.core_hour / MILLI_CORE_SECONDS_PER_CORE_HOUR
    memory = Decimal(amounts.memory_billed) * price.gib_hour / BYTE_SECONDS_PER_GIB_HOUR
    return (cpu + memory).quantize(COST_QUANTUM, rounding=ROUND_HALF_EVEN)


def price_rows(rows: Iterable[Row], prices: Sequence[Price]) -> list[Row]:
    """Daily per-cluster group rows with their cost (None where the cluster has no price that day)."""
    in_force: dict[tuple[str, dt.date], Price | None] = {}
    priced = []
    for row in rows:
        assert row.day is not None
        key = (row.cluster, row.day)
        if key not in in_force:
            in_force[key] = price_on(prices, row.cluster, row.day)
        price = in_force[key]
        cost = cost_of(row.amounts, price) if price is not None else None
        priced.append(Row(row.day, *row.key, amounts=row.amounts, cost=cost))
    return priced


def _add_cost(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    if a is None:
        return b
    if b is None:
        return a
    return a + b


def roll_up(rows: Iterable[Row], level: Level, *, daily: bool = False, by_cluster: bool = False) -> list[Row]:
    """Sum rows to ``level`` (per day when ``daily``; per cluster too when ``by_cluster``), sorted by
    day then key. Amounts and costs are summed, never recomputed, so each level equals the sum of the
    level below exactly."""
    keys = LEVEL_KEYS[level]
    if by_cluster and "cluster" not in keys:
        keys = (*keys, "idc", "cluster")
    keys = tuple(dict.fromkeys(keys))
    sums: dict[tuple[object, ...], list[int]] = {}
    costs: dict[tuple[object, ...], Decimal | None] = {}
    for row in rows:
        key = (row.day if daily else None, *(getattr(row, k) for k in keys))
        found = sums.get(key)
        if found is None:
            sums[key] = list(row.amounts.as_tuple())
            costs[key] = row.cost
        else:
            for i, value in enumerate(row.amounts.as_tuple()):
                found[i] += value
            costs[key] = _add_cost(costs[key], row.cost)
    made = [
        Row(key[0], amounts=Amounts(*totals), cost=costs[key], **dict(zip(keys, key[1:], strict=True)))  # type: ignore[arg-type]
        for key, totals in sums.items()
    ]
    return sorted(made, key=lambda r: (r.day or dt.date.min, r.key))


def low_efficiency(
    daily_group_rows: Iterable[Row], *, days: int = LOW_DAYS, threshold: float = LOW_EFFICIENCY
) -> set[tuple[str, str, str]]:
    """Groups (system, app, group) whose CPU efficiency was below ``threshold`` on each of their last
    ``days`` days with requests (and that have at least that many)."""
    by_group: dict[tuple[str, str, str], dict[dt.date, list[int]]] = {}
    for row in daily_group_rows:
        assert row.day is not None
        days_of = by_group.setdefault((row.system, row.app, row.group), {})
        cpu = days_of.setdefault(row.day, [0, 0])
        cpu[0] += row.amounts.cpu_requested
        cpu[1] += row.amounts.cpu_used
    low = set()
    for group, by_day in by_group.items():
        effs = [used / requested for _, (requested, used) in sorted(by_day.items()) if requested]
        last = effs[-days:]
        if len(last) == days and all(e < threshold for e in last):
            low.add(group)
    return low


@dataclass(frozen=True, slots=True)
class Growth:
    """An application's requests on the period's first and last day, and the difference."""

    system: str
    app: str
    first: Amounts
    last: Amounts

    @property
    def cpu(self) -> int:
        """milli-core-seconds a day more (negative: less)."""
        return self.last.cpu_requested - self.first.cpu_requested

    @property
    def memory(self) -> int:
        return self.last.memory_requested - self.first.memory_requested


def growth(rows: Iterable[Row], *, first: dt.date, last: dt.date, limit: int = 10) -> list[Growth]:
    """The applications whose requested CPU grew most from day ``first`` to day ``last`` (then
    memory, then name); an application absent on a day counts zero there."""
    before: dict[tuple[str, str], Amounts] = {}
    after: dict[tuple[str, str], Amounts] = {}
    for row in rows:
        key = (row.system, row.app)
        if row.day == first:
            before[key] = before.get(key, Amounts()) + row.amounts
        if row.day == last:
            after[key] = after.get(key, Amounts()) + row.amounts
    found = [Growth(s, a, before.get((s, a), Amounts()), after.get((s, a), Amounts())) for s, a in before | after]
    found.sort(key=lambda g: (-g.cpu, -g.memory, g.system, g.app))
    return found[:limit]


@dataclass(frozen=True, slots=True)
class Displaced:
    """A group's instances on the lost nodes: how many, how many fit elsewhere, and why not."""

    system: str
    app: str
    group: str
    instances: int
    fit: int
    reason: str

    @property
    def fits(self) -> bool:
        return self.fit == self.instances


def lost_nodes(nodes: Sequence[NodeInfo], count: int) -> list[str]:
    """The ``count`` nodes whose loss hurts most: the largest allocatable CPU, then memory, then name."""
    ordered = sorted(nodes, key=lambda n: (-n.cpu_millis, -n.memory, n.name))
    return [n.name for n in ordered[:count]]


def without_nodes(
    nodes: Sequence[NodeInfo],
    pods: Sequence[Usage],
    shapes: Mapping[tuple[str, str, str], PodShape],
    lost: Iterable[str],
) -> list[Displaced]:
    """Which Dockyard groups' instances on the ``lost`` nodes would find no room on the others.

    The displaced instances are placed group by group (higher priority first, then by name) with the
    scheduler's filters (:func:`~dockyard.domain.fit.place`), each group on the room the ones before it
    left. A group's shape comes from ``shapes`` (its Deployment's template), else from its pods' own
    requests, labels and required anti-affinity (no node selector nor tolerations). Only pods with an
    application and group label are counted as groups."""
    gone = set(lost)
    remaining = [n for n in nodes if n.name not in gone]
    staying = [p for p in pods if p.node not in gone or not p.node]
    displaced: dict[tuple[str, str, str], list[Usage]] = {}
    for pod in pods:
        if pod.node in gone and pod.app and pod.group and not pod.deleting:
            displaced.setdefault((pod.namespace, pod.app, pod.group), []).append(pod)
    answers = []
    for key in sorted(displaced, key=lambda k: (-displaced[k][0].priority, k)):
        moving = displaced[key]
        shape = shapes.get(key) or PodShape(
            namespace=key[0],
            labels={APP_LABEL: key[1], GROUP_LABEL: key[2]},
            cpu_millis=max(p.cpu_millis for p in moving),
            memory=max(p.memory for p in moving),
            priority=moving[0].priority,
            anti_affinity=(moving[0].anti,) if moving[0].anti else (),
        )
        fit = place(remaining, PodList(staying), shape, len(moving))
        answers.append(Displaced(*key, instances=len(moving), fit=fit.fits, reason=fit.message))
        template = moving[0]
        for node, n in fit.nodes.items():
            for i in range(n):
                staying.append(_moved(template, node, i))
    return answers


def _moved(pod: Usage, node: str, i: int) -> Usage:
    return Usage(
        pod.namespace,
        f"{pod.name}-moved-{node}-{i}",
        node,
        "Pending",
        pod.cpu_millis,
        pod.memory,
        pod.priority,
        pod.app,
        pod.group,
        pod.business,
        pod.anti,
        False,
    )
