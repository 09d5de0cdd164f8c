"""Metrics charts: a system's, an application's or a group's per-instance metrics and their roll-ups,
read from the metrics store (Prometheus' HTTP API) through the recorded series of Dockyard's rules.

Contract of :func:`chart`: authorization first (a caller who may not see the scope gets 404, as
everywhere), then the scope must exist (404), then the query — built by
:func:`dockyard.domain.metrics.query` from checked values only. An empty answer comes with the reason
(:func:`dockyard.domain.metrics.why_empty`: rule not loaded, no target, target down, series absent),
found by asking the store for its rules, targets and series. The store unreachable: ``Unavailable``
(503); a query it refuses: ``Unavailable`` too, naming its error (the query is ours, so it is a fault
of the store's setup, never of the caller).
"""

from __future__ import annotations

from dataclasses import dataclass

from dockyard.domain.access import Principal, authorize
from dockyard.domain.errors import NotFound, Unavailable
from dockyard.domain.failures import MetricsFailure
from dockyard.domain.metrics import (
    EmptyReason,
    Level,
    Metric,
    Scope,
    Series,
    Window,
    check_level,
    check_metric,
    info_query,
    query,
    read_level,
    source_query,
    why_empty,
    window,
)
from dockyard.domain.model import AppPath, GroupPath
from dockyard.services import ports
from dockyard.services.platform import Platform


@dataclass(frozen=True)
class Chart:
    metric: Metric
    level: Level
    query: str
    window: Window
    series: list[Series]
    empty: EmptyReason | None


async def chart(
    platform: Platform,
    by: Principal,
    scope: Scope,
    *,
    level: str,
    metric: str,
    range_: str | None,
    step: str | None,
    now: float,
) -> Chart:
    """``metric`` within ``scope`` at ``level`` over the window ``range_``/``step`` ending ``now``
    (none: the latest value); see the module's docstring."""
    authorize(by, "read", scope.system, scope.app)
    checked_metric = check_metric(metric)
    checked_level = check_level(level, scope)
    span = window(range_, step, now=now)
    await _exists(platform, scope)
    store = _store(platform)
    promql = query(checked_metric, checked_level, scope)
    try:
        series = await _run(store, promql, span)
        empty = None if series else await _why(store, checked_metric, checked_level, scope, now)
    except MetricsFailure as e:
        raise Unavailable(f"the metrics store cannot answer: {e}") from e
    return Chart(checked_metric, checked_level, promql, span, series, empty)


def _store(platform: Platform) -> ports.Metrics:
    if platform.metrics is None:
        raise Unavailable("no metrics store is configured: set DOCKYARD_PROMETHEUS_URL")
    return platform.metrics


async def _exists(platform: Platform, scope: Scope) -> None:
    if scope.group is not None and scope.app is not None:
        # A group chart is what a console polls: a group found by a chart less than 2 s ago is taken to
        # exist without a read (a group deleted meanwhile shows what the store holds, or an empty chart,
        # for those 2 s: authorization never depends on it); else the group from the process's cache while
        # the model's generation is unchanged (services/generations.py), as the group's status reads it.
        path = GroupPath(scope.system, scope.app, scope.group)
        if platform.charted_groups.seen(path):
            return
        generation = await platform.db.generation("model")
        if platform.groups.get(path, generation=generation) is not None:
            platform.charted_groups.add(path)
            return
        async with platform.db.unit_of_work() as uow:
            group = await uow.groups.get(path)
        if group is None:
            raise NotFound(f"group {scope.group!r} does not exist in {scope.system}/{scope.app}")
        platform.groups.put(path, group, generation=generation)
        platform.charted_groups.add(path)
        return
    async with platform.db.unit_of_work() as uow:
        if scope.app is not None:
            found: object = await uow.applications.get(AppPath(scope.system, scope.app))
            what = f"application {scope.app!r} does not exist in {scope.system!r}"
        else:
            found = await uow.systems.get(scope.system)
            what = f"system {scope.system!r} does not exist"
    if found is None:
        raise NotFound(what)


async def _run(store: ports.Metrics, promql: str, span: Window) -> list[Series]:
    if span.instant:
        return await store.query(promql, at=span.end)
    return await store.query_range(promql, start=span.end - span.range, end=span.end, step=span.step)


async def _why(store: ports.Metrics, metric: Metric, level: Level, scope: Scope, now: float) -> EmptyReason:
    recorded = await store.recorded()
    targets = await store.targets()
    source = await store.query(source_query(metric, scope), at=now)
    info = await store.query(info_query(scope), at=now)
    return why_empty(
        rule=metric.recorded(read_level(level, scope)),
        recorded=recorded,
        targets=targets,
        source_present=bool(source),
        info_present=bool(info),
        scope=scope,
        metric=metric,
    )


@dataclass(frozen=True)
class Backlog:
    """Unfinished work as the database holds it: operations and builds by status."""

    operations: dict[str, int]
    builds: dict[str, int]


async def backlog(platform: Platform) -> Backlog:
    """Operations and builds not yet ended, counted by status (for Dockyard's own /metrics)."""
    async with platform.db.unit_of_work() as uow:
        operations = await uow.operations.unfinished()
        builds = await uow.builds.unfinished()
    ops: dict[str, int] = {"pending": 0, "running": 0}
    for op in operations:
        ops[op.status] = ops.get(op.status, 0) + 1
    queue: dict[str, int] = {}
    for build in builds:
        queue[build.status] = queue.get(build.status, 0) + 1
    return Backlog(ops, queue)


# What the APM tables share with the charts (services/apm.py).
metrics_store = _store
scope_exists = _exists
