"""The FastAPI application. Built by :func:`create_app`; nothing happens at import."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response

from dockyard import __version__
from dockyard.api import errors
from dockyard.api.audit import AuditMiddleware
from dockyard.api.console import Console, default_directory
from dockyard.api.deps import PlatformDep
from dockyard.api.routes import (
    audit,
    builds,
    clusters,
    events,
    gc,
    groups,
    identity,
    locations,
    members,
    operations,
    releases,
    systems,
)
from dockyard.domain.errors import DomainError
from dockyard.services import identity as identity_service
from dockyard.services import keys
from dockyard.services.build_runner import run_builds
from dockyard.services.executor import run_executor
from dockyard.services.health import readiness
from dockyard.services.platform import Platform
from dockyard.settings import Settings

log = logging.getLogger(__name__)


async def _keep_watching(platform: Platform, every: float = 30.0) -> None:
    """Watch clusters registered meanwhile (by another replica too) and retry unusable ones."""
    while True:
        await asyncio.sleep(every)
        try:
            await platform.watch()
        except DomainError as e:
            log.warning("cannot refresh the cluster watches: %s", e)


async def _bootstrap(platform: Platform, settings: Settings) -> None:
    """The first admin on an empty database; where to find its generated secrets goes to the log,
    never the secrets."""
    token = settings.admin_token.get_secret_value() if settings.admin_token else None
    password = settings.admin_password.get_secret_value() if settings.admin_password else None
    created = await identity_service.bootstrap(
        platform,
        token=token,
        token_file=settings.admin_token_file,
        password=password,
        password_file=settings.admin_password_file,
    )
    if created:
        where = [f"its API token is in {settings.admin_token_file}"] if token is None else []
        where += [f"its password is in {settings.admin_password_file}"] if password is None else []
        log.warning("created the platform admin 'admin'%s", "; " + ", ".join(where) if where else "")


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if keys.ensure_secret_key(settings):
            log.warning("generated the secret key sealing secrets at rest in %s: back it up", settings.secret_key_file)
        platform = app.state.platform = await Platform.start(settings)
        await _bootstrap(platform, settings)
        await platform.watch()
        watcher = asyncio.create_task(_keep_watching(platform))
        lease = settings.lease_seconds
        executor = asyncio.create_task(run_executor(platform, lease=lease)) if settings.executor else None
        builds = asyncio.create_task(run_builds(platform, lease=lease)) if settings.executor else None
        try:
            yield
        finally:
            for task in (builds, executor, watcher):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            await app.state.platform.stop()

    app = FastAPI(title="Dockyard", version=__version__, lifespan=lifespan)
    errors.install(app)
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
    ):
        app.include_router(module.router)

    console = app.state.console = Console(settings.console_dir or default_directory())

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
