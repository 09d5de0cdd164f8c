"""The FastAPI application. Built by :func:`create_app`; nothing happens at import."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response

from dockyard import __version__
from dockyard.api import errors, export
from dockyard.api.audit import AuditMiddleware
from dockyard.api.console import Console, default_directory
from dockyard.api.deps import PlatformDep
from dockyard.api.export import Exporter, LatencyMiddleware
from dockyard.api.routes import (
    alert_rules,
    alerts,
    apm,
    audit,
    autoscale,
    builds,
    clusters,
    edge,
    events,
    flavors,
    gc,
    groups,
    identity,
    inspections,
    instances,
    locations,
    logs,
    members,
    metrics,
    operations,
    orchestrations,
    releases,
    remediation,
    sso,
    statistics,
    system_groups,
    systems,
    templates,
)
from dockyard.api.routes.sso import LoginState
from dockyard.bootstrap import Server
from dockyard.services.health import readiness


def create_app(server: Server) -> FastAPI:
    """The API application; the platform runs (``server.running()``) while the application's
    lifespan does (see :func:`dockyard.bootstrap.server`)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with server.running() as platform:
            app.state.platform = platform
            yield

    app = FastAPI(title="Dockyard", version=__version__, lifespan=lifespan)
    errors.install(app)
    exporter = app.state.exporter = Exporter()
    app.add_middleware(LoginState)
    app.add_middleware(LatencyMiddleware, exporter=exporter)
    app.add_middleware(AuditMiddleware)  # outermost: it sees every answer, the body limit's too
    for module in (
        identity,
        clusters,
        systems,
        members,
        groups,
        events,
        releases,
        builds,
        operations,
        audit,
        gc,
        locations,
        edge,
        alert_rules,
        alerts,
        metrics,
        apm,
        flavors,
        templates,
        orchestrations,
        autoscale,
        export,
        inspections,
        remediation,
        instances,
        system_groups,
        logs,
        statistics,
        sso,
    ):
        app.include_router(module.router)

    console = app.state.console = Console(server.console_dir or default_directory())

    @app.get("/", include_in_schema=False)
    async def console_index() -> Response:
        """The web console (or how to build it)."""
        return console.index()

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers. Checks nothing else."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], responses={503: {"description": "a dependency is not ready"}})
    async def readyz(platform: PlatformDep) -> JSONResponse:
        """Readiness: the database and every registered cluster; 503 if any is not ready."""
        result = await readiness(platform)
        body: dict[str, Any] = {
            "status": "ready" if result.ok else "not ready",
            "database": {"ok": result.database.ok, "detail": result.database.detail},
            "clusters": {n: {"ok": c.ok, "detail": c.detail} for n, c in result.clusters.items()},
        }
        return JSONResponse(body, status_code=200 if result.ok else 503)

    return app
