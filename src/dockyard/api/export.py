"""Dockyard's own ``/metrics`` (Prometheus text format) and the HTTP latency it reports.

``/metrics/targets`` is Prometheus' HTTP service discovery of the application instances that export the
request histogram (docs/apm.md), read from the watch caches too, behind the same tokens.

``/metrics`` holds the model as a join table, ``dockyard_instance_info{cluster, namespace, pod, idc,
system, app, group, version} 1`` for every instance the watch caches hold (never a call to a cluster's
API), and Dockyard's health: HTTP request latency, unfinished operations and builds by status, and
each cluster's watch (connected, seconds since it last heard from the apiserver).

It names every system and application, so it is not public. Contract: no or an unknown bearer token
→ 401; the read-only scrape token (``DOCKYARD_METRICS_TOKEN`` or the generated
``metrics_token_file``) or a platform admin's token → 200; any other user → 403.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import time
from collections.abc import Iterator, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dockyard.api import instance_series
from dockyard.api.alert_metrics import AlertInputs
from dockyard.api.deps import PlatformDep
from dockyard.api.errors import ERRORS
from dockyard.domain.access import require_admin
from dockyard.domain.live import PlacedInstance
from dockyard.services import alert_rules, apm
from dockyard.services.alert_rules import Inputs
from dockyard.services.identity import authenticate
from dockyard.services.metrics import Backlog, backlog
from dockyard.services.platform import Platform

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_bearer = HTTPBearer(auto_error=False)
router = APIRouter(responses=ERRORS)


class Exporter:
    """The registry one application exports: the HTTP latency histogram and the live collectors (the
    per-instance families are written apart: :mod:`dockyard.api.instance_series`)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.latency = Histogram(
            "dockyard_http_request_duration_seconds",
            "Time to answer an HTTP request, by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.live = _Live()
        self.registry.register(self.live)
        self.alerts = AlertInputs()
        self.registry.register(self.alerts)

    def render(
        self, platform: Platform, work: Backlog, placed: Sequence[PlacedInstance], alerts: Inputs | None = None
    ) -> bytes:
        """The registry's text; ``placed``: the watch caches' instances, read once per scrape."""
        self.live.platform, self.live.work = platform, work
        self.alerts.placed, self.alerts.inputs = placed, alerts
        try:
            return generate_latest(self.registry)
        finally:
            self.live.platform, self.live.work = None, None
            self.alerts.placed, self.alerts.inputs = None, None


class _Live(Collector):
    """The watches and the backlog, read when rendered (the join table: :mod:`instance_series`)."""

    def __init__(self) -> None:
        self.platform: Platform | None = None
        self.work: Backlog | None = None

    def collect(self) -> Iterator[Metric]:
        if self.platform is None or self.work is None:
            return
        connected = GaugeMetricFamily(
            "dockyard_watch_connected", "1 while a cluster's watches are connected.", labels=["cluster"]
        )
        silence = GaugeMetricFamily(
            "dockyard_watch_silence_seconds",
            "Seconds since a cluster's instance watch last heard from its apiserver (event, bookmark or list).",
            labels=["cluster"],
        )
        for health in self.platform.live.watch_health():
            connected.add_metric([health.cluster], 1.0 if health.connected else 0.0)
            silence.add_metric([health.cluster], health.silence)
        yield connected
        yield silence
        operations = GaugeMetricFamily(
            "dockyard_operations_unfinished", "Operations not yet ended, by status.", labels=["status"]
        )
        for status, count in sorted(self.work.operations.items()):
            operations.add_metric([status], count)
        yield operations
        builds = GaugeMetricFamily("dockyard_build_queue", "Builds not yet ended, by status.", labels=["status"])
        for status, count in sorted(self.work.builds.items()):
            builds.add_metric([status], count)
        yield builds


class LatencyMiddleware:
    """Times every HTTP request into ``exporter.latency``, labelled by its route's template (never the
    raw path, so names in URLs do not become label values)."""

    def __init__(self, app: ASGIApp, exporter: Exporter) -> None:
        self.app = app
        self.exporter = exporter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route: Any = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.exporter.latency.labels(scope["method"], template, str(status)).observe(time.perf_counter() - started)


@router.get("/metrics", tags=["health"], response_class=Response, responses={200: {"content": {CONTENT_TYPE: {}}}})
async def metrics(
    request: Request,
    platform: PlatformDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Response:
    """Dockyard's own metrics for Prometheus; the scrape token or a platform admin only (see the module)."""
    await _scraper(request, platform, credentials, "reading /metrics")
    exporter: Exporter = request.app.state.exporter
    alerts = await alert_rules.inputs(platform, now=dt.datetime.now(dt.UTC))
    # The per-instance families (three lines per instance, ~12 MB at 30,000) are written from a snapshot
    # of the watch caches in a worker thread: rendered on the event loop they held every other request
    # back for as long (a chart's p99 was 3.5 s at 30,000 instances: docs/benchmarks.md).
    placed = platform.live.placed_instances()
    head = exporter.render(platform, await backlog(platform), placed, alerts)
    instances = await asyncio.to_thread(instance_series.render, placed)
    return Response(head + instances.encode(), media_type=CONTENT_TYPE)


@router.get("/metrics/targets", tags=["health"])
async def scrape_targets(
    request: Request,
    platform: PlatformDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> JSONResponse:
    """Prometheus' HTTP service discovery (``http_sd_configs``) of the application instances that export
    the request histogram: each Running instance of a version with a ``metrics`` port, as
    ``[{"targets": ["10.64.0.5:9090"], "labels": {"cluster", "namespace", "pod"}}]``, from the watch
    caches. The scrape token or a platform admin only, as ``/metrics``."""
    await _scraper(request, platform, credentials, "reading /metrics/targets")
    return JSONResponse(apm.scrape_targets(platform))


async def _scraper(
    request: Request, platform: Platform, credentials: HTTPAuthorizationCredentials | None, action: str
) -> None:
    """The scrape token, or a signed-in platform admin; else 401 / 403 (see the module)."""
    token = credentials.credentials if credentials else None
    if token and platform.scrape_token and hmac.compare_digest(token.encode(), platform.scrape_token.encode()):
        return
    principal = await authenticate(platform, token)
    request.state.principal = principal
    require_admin(principal, action)
