"""Resource statistics: the sampler that records what every instance requested and used, step by
step, into daily rows, and the reports read from those rows (never from raw metrics).

**The sampler** (:func:`run_sampler`, in every server running the executor; one replica per step by
the lease ``statistics`` and the step's own row): at the end of each step of ``config.statistics.step``
seconds (aligned to the epoch, dividing a day), :func:`sample` reads

- *requested* from the watch caches: every pod of a Dockyard group bound to a node, with its
  containers' requests (the capacity cache's index; never a list of the apiserver);
- *used* from Prometheus, one instant query per resource at the step's end:
  ``instance:container_cpu_usage_seconds:rate1m`` (cores) and
  ``instance:container_memory_working_set_bytes:sum`` (bytes), Dockyard's roll-up rules
  (docs/metrics.md). Prometheus away, or an instance without a series: not measured (billed as
  requested, counted in ``unmeasured``);

and adds the step's amounts to the day's instance and group rows in one unit of work
(domain/statistics.py; docs/statistics.md). A step no server sampled (all down) is not counted.

**Reports** (:func:`report`, :func:`growth`): the daily group rows of the period, priced with each
cluster's price of each day, rolled up to the level asked. Authorized as reads: a named system or
application the caller cannot see is 404; without one, the caller gets the rows of the systems and
applications they have a role in, nothing of the others. :func:`without_nodes` and setting prices
need a platform admin.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from dockyard.domain import statistics as stats
from dockyard.domain.access import Principal, authorize, require_admin, role_in
from dockyard.domain.errors import DomainError, InvalidInput, NotFound
from dockyard.domain.failures import DatabaseConflict, Failure, MetricsFailure
from dockyard.domain.statistics import Level, Price, Row, Sample
from dockyard.services.platform import Platform
from dockyard.services.workers import runner_id

log = logging.getLogger(__name__)
LEASE = "statistics"
CPU_SERIES = "instance:container_cpu_usage_seconds:rate1m"
MEMORY_SERIES = "instance:container_memory_working_set_bytes:sum"
MAX_DAYS = 400  # a report covers at most this many days
EARLIEST, LATEST = dt.date(1970, 1, 1), dt.date(9000, 1, 1)  # the days a report may name
SETTLE = 2.0  # seconds after a step's end before it is sampled (Prometheus' last evaluation)

# --- The sampler -------------------------------------------------------------------------------------


async def run_sampler(platform: Platform, *, runner: str = "") -> None:
    """Sample every step until cancelled (see the module); a step that fails is logged and lost."""
    me = runner or runner_id()
    config = platform.config.statistics
    step = config.step
    stats.check_step(step)
    while True:
        now = time.time()
        at = int(now // step) * step - step  # the last step that has ended
        try:
            if await _claim(platform, me, seconds=config.lease):
                await sample(platform, at=at, step=step, runner=me)
        except DatabaseConflict:
            pass  # another replica recorded this step
        except (Failure, DomainError) as e:
            log.warning("statistics: the step at %d cannot be recorded: %s", at, e)
        next_end = (int(time.time() // step) + 1) * step
        await asyncio.sleep(max(0.5, next_end + SETTLE - time.time()))


async def _claim(platform: Platform, runner: str, *, seconds: float) -> bool:
    try:
        async with platform.db.unit_of_work() as uow:
            return await uow.leases.claim(LEASE, runner, seconds=seconds)
    except DatabaseConflict:
        return False


async def sample(platform: Platform, *, at: int, step: int, runner: str = "") -> int:
    """Record the step ``[at, at + step)``: requested from the watch caches now, used from Prometheus
    at ``at + step``. Returns how many instances were counted; a step recorded already raises
    :class:`DatabaseConflict` (nothing is added twice)."""
    stats.check_step(step)
    if at % step:
        raise InvalidInput("at", f"a step starts at a multiple of {step} s (got {at})")
    async with platform.db.unit_of_work() as uow:
        clusters = await uow.clusters.all()
        systems = [s.name for s in await uow.systems.all()]
    used = await read_usage(platform, at=at + step)
    samples: list[Sample] = []
    for cluster in clusters:
        capacity = platform.live.capacity(cluster.name)
        if not capacity.synced:
            continue
        idc = cluster.labels.get("idc", "")
        for system in systems:
            for pod in capacity.usage.in_namespace(system):
                if not pod.node or not pod.app or not pod.group or pod.deleting:
                    continue
                cpu, memory = (
                    used.get((cluster.name, system, pod.name), (None, None)) if used is not None else (None, None)
                )
                samples.append(
                    Sample(
                        cluster.name, idc, system, pod.app, pod.group, pod.name, pod.cpu_millis, pod.memory, cpu, memory
                    )
                )
    instances, groups = stats.step_rows(samples, at=at, step=step)
    async with platform.db.unit_of_work() as uow:
        await uow.statistics.add_step(
            at=at, step=step, measured=used is not None, runner=runner, instances=instances, groups=groups
        )
    return len(samples)


async def read_usage(platform: Platform, *, at: float) -> dict[tuple[str, str, str], tuple[int, int]] | None:
    """Each instance's (CPU millicores, working-set bytes) at ``at`` by (cluster, namespace, pod);
    None when Prometheus cannot answer. An instance with only one of the two is left out."""
    metrics = platform.metrics
    if metrics is None:
        return None
    try:
        cpu = await metrics.query(CPU_SERIES, at=at)
        memory = await metrics.query(MEMORY_SERIES, at=at)
    except MetricsFailure as e:
        log.info("statistics: Prometheus cannot give the usage at %.0f: %s", at, e)
        return None

    def by_pod(found: Sequence[object]) -> dict[tuple[str, str, str], float]:
        values: dict[tuple[str, str, str], float] = {}
        for series in found:
            labels, points = series.labels, series.points  # type: ignore[attr-defined]
            if points:
                key = (labels.get("cluster", ""), labels.get("namespace", ""), labels.get("pod", ""))
                values[key] = values.get(key, 0.0) + points[-1][1]
        return values

    cores, working = by_pod(cpu), by_pod(memory)
    return {
        key: (stats.used_millis(cores[key]), max(0, round(working[key])))
        for key in cores.keys() & working.keys()
        if working[key] == working[key]  # not NaN
    }


# --- Reports -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """What a report is about: the whole visible platform, a system, an application or a group."""

    system: str | None = None
    app: str | None = None
    group: str | None = None


@dataclass(frozen=True)
class Report:
    """Rows of the period ``first``..``last`` at ``level``; ``low``: groups flagged for low efficiency
    (:func:`dockyard.domain.statistics.low_efficiency`); ``sampled``: seconds of the period some server
    sampled, ``measured``: of those, with Prometheus' usage."""

    first: dt.date
    last: dt.date
    level: str
    rows: list[Row]
    low: set[tuple[str, str, str]]
    sampled: int
    measured: int


def period(first: dt.date | None, last: dt.date | None, *, today: dt.date) -> tuple[dt.date, dt.date]:
    """The days of a report: default the last 30 days to ``today``; ``first`` after ``last`` or a
    period beyond :data:`MAX_DAYS` is :class:`InvalidInput`."""
    for name, day in (("from", first), ("to", last)):
        if day is not None and not EARLIEST <= day <= LATEST:
            raise InvalidInput(name, f"{name} must be a day from {EARLIEST} to {LATEST} (got {day})")
    last = last or today
    first = first or last - dt.timedelta(days=29)
    if first > last:
        raise InvalidInput("from", f"from ({first}) is after to ({last})")
    if (last - first).days >= MAX_DAYS:
        raise InvalidInput("from", f"a report covers at most {MAX_DAYS} days")
    return first, last


def _visible(by: Principal, rows: Sequence[Row]) -> list[Row]:
    if by.admin:
        return list(rows)
    return [r for r in rows if role_in(by, r.system, r.app) is not None]


def _authorize_scope(by: Principal, scope: Scope) -> None:
    if (scope.app is not None and scope.system is None) or (scope.group is not None and scope.app is None):
        raise InvalidInput("system", "an application needs its system, a group its application")
    if scope.system is not None:
        authorize(by, "read", scope.system, scope.app)


def _in_scope(rows: Sequence[Row], scope: Scope) -> list[Row]:
    return [
        r
        for r in rows
        if (scope.system is None or r.system == scope.system)
        and (scope.app is None or r.app == scope.app)
        and (scope.group is None or r.group == scope.group)
    ]


async def _group_rows(platform: Platform, by: Principal, scope: Scope, first: dt.date, last: dt.date) -> list[Row]:
    systems = [scope.system] if scope.system is not None else None
    if systems is None and not by.admin:
        systems = sorted(set(by.roles) | {s for s, _ in by.app_roles})
    async with platform.db.unit_of_work() as uow:
        rows = await uow.statistics.group_days(first=first, last=last, systems=systems)
        prices = await uow.statistics.prices()
    return stats.price_rows(_in_scope(_visible(by, rows), scope), prices)


async def report(
    platform: Platform,
    by: Principal,
    *,
    scope: Scope,
    level: str,
    first: dt.date | None = None,
    last: dt.date | None = None,
    daily: bool = False,
    by_cluster: bool = False,
) -> Report:
    """The statistics of ``scope`` over the period at ``level`` (``instance`` needs a group scope)."""
    _authorize_scope(by, scope)
    first, last = period(first, last, today=dt.datetime.now(dt.UTC).date())
    if level == "instance":
        if scope.group is None:
            raise InvalidInput("level", "level instance needs a group")
        assert scope.system is not None
        assert scope.app is not None
        async with platform.db.unit_of_work() as uow:
            raw = await uow.statistics.instance_days(
                first=first, last=last, system=scope.system, app=scope.app, group=scope.group
            )
            prices = await uow.statistics.prices()
        priced = stats.price_rows(raw, prices)
        rows = priced if daily else _sum_instances(priced)
        group_rows: list[Row] = []
    elif level in stats.LEVELS:
        group_rows = await _group_rows(platform, by, scope, first, last)
        rows = stats.roll_up(group_rows, _level(level), daily=daily, by_cluster=by_cluster)
    else:
        raise InvalidInput("level", f"level must be one of instance, {', '.join(stats.LEVELS)} (got {level!r})")
    since = int(dt.datetime.combine(first, dt.time(), dt.UTC).timestamp())
    until = int(dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), dt.UTC).timestamp())
    async with platform.db.unit_of_work() as uow:
        steps = await uow.statistics.steps(since=since, until=until)
    sampled = sum(s for _, s, _ in steps)
    measured = sum(s for _, s, m in steps if m)
    return Report(first, last, level, rows, stats.low_efficiency(group_rows), sampled, measured)


def _level(level: str) -> Level:
    for known in stats.LEVELS:
        if known == level:
            return known
    raise InvalidInput("level", f"unknown level {level!r}")


def _sum_instances(rows: Sequence[Row]) -> list[Row]:
    sums: dict[tuple[str, ...], Row] = {}
    for row in rows:
        found = sums.get(row.key)
        if found is None:
            sums[row.key] = Row(None, *row.key, amounts=row.amounts, cost=row.cost)
        else:
            cost = row.cost if found.cost is None else found.cost + (row.cost or Decimal(0))
            sums[row.key] = Row(None, *row.key, amounts=found.amounts + row.amounts, cost=cost)
    return sorted(sums.values(), key=lambda r: r.key)


async def growth(
    platform: Platform, by: Principal, *, scope: Scope, first: dt.date | None, last: dt.date | None, limit: int = 10
) -> tuple[dt.date, dt.date, list[stats.Growth]]:
    """The applications (visible to the caller, in ``scope``) whose requested CPU grew most from the
    period's first day to its last."""
    _authorize_scope(by, scope)
    if not 1 <= limit <= 1000:
        raise InvalidInput("limit", f"limit must be between 1 and 1000 (got {limit})")
    first, last = period(first, last, today=dt.datetime.now(dt.UTC).date())
    rows = await _group_rows(platform, by, scope, first, last)
    return first, last, stats.growth(rows, first=first, last=last, limit=limit)


@dataclass(frozen=True)
class LostNodes:
    cluster: str
    nodes: list[str]
    displaced: list[stats.Displaced]


async def without_nodes(
    platform: Platform, by: Principal, *, cluster: str, count: int = 0, nodes: Sequence[str] = ()
) -> LostNodes:
    """Which groups would not fit if ``cluster`` lost ``nodes`` (or its ``count`` largest), from the
    watch caches (platform admin)."""
    require_admin(by, "capacity planning")
    async with platform.db.unit_of_work() as uow:
        known = {c.name for c in await uow.clusters.all()}
    if cluster not in known:
        raise NotFound(f"cluster {cluster!r} does not exist")
    capacity = platform.live.capacity(cluster)
    names = {n.name for n in capacity.nodes}
    if nodes:
        unknown = sorted(set(nodes) - names)
        if unknown:
            raise InvalidInput("nodes", f"cluster {cluster!r} has no node {unknown[0]!r}")
        lost = list(nodes)
    else:
        if not 1 <= count <= len(names):
            raise InvalidInput("count", f"count must be between 1 and the cluster's {len(names)} nodes (got {count})")
        lost = stats.lost_nodes(capacity.nodes, count)
    pods = [p for node in capacity.nodes for p in capacity.usage.on(node.name)]
    return LostNodes(cluster, lost, stats.without_nodes(capacity.nodes, pods, {}, lost))


# --- Prices ------------------------------------------------------------------------------------------


async def prices(platform: Platform, by: Principal) -> list[Price]:
    """Every cluster's prices (anyone signed in: the costs in their reports come from them)."""
    del by
    async with platform.db.unit_of_work() as uow:
        found = await uow.statistics.prices()
    return sorted(found, key=lambda p: (p.cluster, p.since))


def parse_price(field: str, text: str) -> Decimal:
    """A price: a non-negative decimal with at most 6 fractional digits."""
    try:
        value = Decimal(text)
    except (InvalidOperation, TypeError) as e:
        raise InvalidInput(field, f"{field} must be a decimal number (got {text!r})") from e
    if not value.is_finite() or value < 0 or value.as_tuple().exponent < -6 or value > Decimal("1e9"):  # type: ignore[operator]
        raise InvalidInput(field, f"{field} must be between 0 and 1e9 with at most 6 decimals (got {text!r})")
    return value


async def set_price(
    platform: Platform, by: Principal, *, cluster: str, core_hour: str, gib_hour: str, since: dt.date | None = None
) -> Price:
    """Set ``cluster``'s prices from ``since`` (default today, UTC) on (platform admin)."""
    require_admin(by, "setting prices")
    price = Price(
        cluster,
        since or dt.datetime.now(dt.UTC).date(),
        parse_price("core_hour", core_hour),
        parse_price("gib_hour", gib_hour),
    )
    async with platform.db.unit_of_work() as uow:
        if cluster not in {c.name for c in await uow.clusters.all()}:
            raise NotFound(f"cluster {cluster!r} does not exist")
        await uow.statistics.set_price(price, by=by.name)
    return price
