"""Application performance of a group, and the samples a release's analysis judges.

Contract of :func:`table`: authorization first (a caller who may not read the group gets 404, as
everywhere), then the group must exist (404), then two queries of the metrics store built by
:mod:`dockyard.domain.apm` from checked values only (requests/s and 5xx by key and code; the
histogram's buckets by key, from which :func:`dockyard.domain.apm.rows` computes the p50, p90 and
p99). The store unreachable or refusing: ``Unavailable`` (503). The answer carries the queries it
ran, so the same PromQL can be sent straight to Prometheus.

:func:`versions_sample` reads the canary's and the stable version's numbers for an analysis interval;
it raises the store's ``MetricsFailure`` (the caller's verdict is then inconclusive, never a fail).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from dockyard.domain import apm
from dockyard.domain.access import Principal, authorize
from dockyard.domain.errors import Unavailable
from dockyard.domain.failures import MetricsFailure, MetricsUnavailable
from dockyard.domain.metrics import Scope, Series, Window
from dockyard.domain.model import GroupPath
from dockyard.services import metrics
from dockyard.services.platform import Platform


def scrape_targets(platform: Platform) -> list[dict[str, Any]]:
    """The instances Prometheus scrapes for the request histogram (``http_sd``), from the watch caches
    only (:func:`dockyard.domain.apm.scrape_targets`)."""
    return apm.scrape_targets(platform.live.placed_instances())


@dataclass(frozen=True)
class Table:
    """A group's APM over ``window`` seconds ending ``at``: one row per version or per method (all of
    them, and the top ``n`` by p99 and by traffic), the queries run, and when ``span`` is given the p99
    and requests/s per key over it."""

    by: apm.By
    window: float
    at: float
    rows: list[apm.Row]
    top_p99: list[apm.Row]
    top_rps: list[apm.Row]
    queries: dict[str, str]
    p99_series: list[Series]
    rps_series: list[Series]


async def table(
    platform: Platform,
    caller: Principal,
    path: GroupPath,
    *,
    by: str,
    window: float,
    top: int,
    span: Window | None,
    now: float,
) -> Table:
    """The group's APM (see the module's docstring)."""
    authorize(caller, "read", path.system, path.app)
    grouping = apm.check_by(by)
    seconds = apm.check_window(window)
    await metrics.scope_exists(platform, Scope(path.system, path.app, path.group))
    store = metrics.metrics_store(platform)
    traffic_q = apm.traffic_query(path, grouping, seconds)
    bucket_q = apm.bucket_query(path, grouping, seconds)
    queries = {"traffic": traffic_q, "buckets": bucket_q}
    try:
        traffic, buckets = await asyncio.gather(store.query(traffic_q, at=now), store.query(bucket_q, at=now))
        p99_series: list[Series] = []
        rps_series: list[Series] = []
        if span is not None and not span.instant:
            rps_q = f"sum by ({', '.join(apm.BY[grouping])}) ({traffic_q})"
            queries |= {"rps_series": rps_q}  # the buckets over the span: the same PromQL, by query_range
            start, step = span.end - span.range, span.step
            bucket_series, rps_series = await asyncio.gather(
                store.query_range(bucket_q, start=start, end=span.end, step=step),
                store.query_range(rps_q, start=start, end=span.end, step=step),
            )
            p99_series = apm.quantile_series(grouping, bucket_series, 0.99)
    except MetricsFailure as e:
        raise Unavailable(f"the metrics store cannot answer: {e}") from e
    found = apm.rows(grouping, traffic, buckets)
    return Table(
        grouping,
        seconds,
        now,
        found,
        apm.top(found, by="p99", n=top),
        apm.top(found, by="rps", n=top),
        queries,
        p99_series,
        rps_series,
    )


async def versions_sample(
    platform: Platform,
    path: GroupPath,
    *,
    cluster: str,
    canary: int,
    stable: int,
    window: float,
    now: float,
) -> tuple[apm.Sample, apm.Sample]:
    """The canary's and the stable version's :class:`~dockyard.domain.apm.Sample` over the last
    ``window`` seconds: requests, 5xx and p99 from the histogram, CPU and rss per instance from the
    roll-up rules, the most restarts of an instance from the watch cache. ``MetricsFailure`` when the
    store cannot answer (or none is configured: ``MetricsUnavailable``)."""
    store = platform.metrics
    if store is None:
        raise MetricsUnavailable("no metrics store is configured (DOCKYARD_PROMETHEUS_URL)")
    traffic, buckets, cpu, rss = await asyncio.gather(
        store.query(apm.traffic_query(path, "version", window), at=now),
        store.query(apm.bucket_query(path, "version", window), at=now),
        store.query(apm.usage_query(path, apm.CPU_SERIES), at=now),
        store.query(apm.usage_query(path, apm.RSS_SERIES), at=now),
    )
    by_version = {r.key["version"]: r for r in apm.rows("version", traffic, buckets, quantiles=(0.99,))}
    cpu_of = {s.labels.get("version", ""): s.points[-1][1] for s in cpu if s.points}
    rss_of = {s.labels.get("version", ""): s.points[-1][1] for s in rss if s.points}
    pods = [p for p in platform.live.pods(cluster, path) if not p.deleting]

    def one(version: int) -> apm.Sample:
        key = str(version)
        restarts = max((p.restarts for p in pods if p.version == key), default=None)
        return apm.sample(
            by_version.get(key), window=window, restarts=restarts, cpu=cpu_of.get(key), rss=rss_of.get(key)
        )

    return one(canary), one(stable)
