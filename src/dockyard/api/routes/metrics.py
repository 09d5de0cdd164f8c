"""GET …/metrics of a system, an application or a group: per-instance metrics and their roll-ups.

Query: ``metric`` (the catalog: cpu, memory_usage, memory_rss, memory_cache, memory_working_set,
network_{receive,transmit}_{bytes,packets,packets_dropped,errors}), ``level`` (instance, group, app,
system — at or below the path's own — or idc: the path's scope by IDC), ``range`` (15m, 1h, ... up to
7d; none: the latest value) and ``step``. Readable by whoever may read the path (else 404); 422 names
the bad parameter; 503 when the metrics store cannot answer. An empty chart says why (``empty``).

The answer is encoded by msgspec from the chart's plain records, not validated again through the
response model: a group's chart is thousands of points that the store's adapter decoded already, and a
chart is what a console polls. ``ChartOut`` still describes it (OpenAPI), and a unit test holds the two
to the same JSON.
"""

from __future__ import annotations

import time
from typing import Annotated

import msgspec
from fastapi import APIRouter, Query
from fastapi.responses import Response

from dockyard.api.deps import Caller, PlatformDep
from dockyard.api.errors import ERRORS
from dockyard.api.schemas.metrics import ChartOut
from dockyard.domain.access import Principal
from dockyard.domain.metrics import Scope
from dockyard.services import metrics as svc
from dockyard.services.platform import Platform

router = APIRouter(prefix="/api/v1/systems/{system}", responses=ERRORS, tags=["metrics"])

MetricQ = Annotated[str, Query(description="what to show (the catalog's names)")]
RangeQ = Annotated[str | None, Query(alias="range", description="how far back: 15m, 1h, 7d; none: the latest value")]
StepQ = Annotated[str | None, Query(description="one point every: 30s, 1m (default: about 120 points)")]
IdcQ = Annotated[str | None, Query(description="only this IDC")]


async def _chart(
    platform: Platform, caller: Principal, scope: Scope, level: str, metric: str, range_: str | None, step: str | None
) -> Response:
    chart = await svc.chart(
        platform, caller, scope, level=level, metric=metric, range_=range_, step=step, now=time.time()
    )
    return Response(encode(chart), media_type="application/json")


_encoder = msgspec.json.Encoder()


def encode(chart: svc.Chart) -> bytes:
    """``chart`` as JSON, the fields of :class:`ChartOut` (non-finite values as ``null``, as pydantic does)."""
    empty = {"code": chart.empty.code, "message": chart.empty.message} if chart.empty else None
    return _encoder.encode(
        {
            "metric": chart.metric.key,
            "unit": chart.metric.unit,
            "level": chart.level,
            "query": chart.query,
            "range_seconds": float(chart.window.range),
            "step_seconds": float(chart.window.step),
            "end": float(chart.window.end),
            "series": [{"labels": s.labels, "points": s.points} for s in chart.series],
            "empty": empty,
        }
    )


@router.get("/metrics", response_model=ChartOut)
async def system_metrics(
    system: str,
    platform: PlatformDep,
    caller: Caller,
    metric: MetricQ = "cpu",
    level: Annotated[str, Query(description="instance, group, app, system or idc")] = "app",
    range_: RangeQ = None,
    step: StepQ = None,
    idc: IdcQ = None,
) -> Response:
    """A system's metric, per application by default."""
    return await _chart(platform, caller, Scope(system, idc=idc), level, metric, range_, step)


@router.get("/apps/{app}/metrics", response_model=ChartOut)
async def app_metrics(
    system: str,
    app: str,
    platform: PlatformDep,
    caller: Caller,
    metric: MetricQ = "cpu",
    level: Annotated[str, Query(description="instance, group, app or idc")] = "group",
    range_: RangeQ = None,
    step: StepQ = None,
    idc: IdcQ = None,
) -> Response:
    """An application's metric, per group by default."""
    return await _chart(platform, caller, Scope(system, app, idc=idc), level, metric, range_, step)


@router.get("/apps/{app}/groups/{group}/metrics", response_model=ChartOut)
async def group_metrics(
    system: str,
    app: str,
    group: str,
    platform: PlatformDep,
    caller: Caller,
    metric: MetricQ = "cpu",
    level: Annotated[str, Query(description="instance, group or idc")] = "instance",
    range_: RangeQ = None,
    step: StepQ = None,
    idc: IdcQ = None,
) -> Response:
    """A group's metric, per instance by default (``level=group``: the group's total)."""
    return await _chart(platform, caller, Scope(system, app, group, idc=idc), level, metric, range_, step)
