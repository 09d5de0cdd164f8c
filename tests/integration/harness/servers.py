"""Dockyard servers for tests: in-process (the ASGI app with its lifespan: executor, watch caches) and as
a process (``dockyard server`` / ``dockyard up``, for the CLI, kill -9 and restarts).

In-process is the default: it starts in a fraction of the time and a test can reach the platform. A
process is for what only a process shows: exit codes, signals, a second server on the same database.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from dockyard import bootstrap
from dockyard.api.app import create_app
from dockyard.services.platform import Platform
from dockyard.settings import Settings
from tests.integration.harness.cli import DOCKYARD
from tests.integration.harness.sandboxes import free_port
from tests.integration.harness.tokens import ADMIN_TOKEN
from tests.integration.harness.waiting import Not, eventually_blocking

NO_SOURCES = "/nonexistent-dockyard-sources"  # an allowed root for builds' file:// sources; nothing is there
# DOCKYARD_LEASE_SECONDS for server processes a test kills: their work is resumed 3 s later, not 15 s.
SHORT_LEASE = {"DOCKYARD_LEASE_SECONDS": "3"}


def settings(database_url: str, state: Path, **overrides: Any) -> Settings:
    """Settings of a test server on ``database_url`` whose first admin holds :data:`ADMIN_TOKEN`;
    files it would write go under ``state``."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "admin_token": ADMIN_TOKEN,
        "admin_token_file": state / "admin-token",
        "metrics_token_file": state / "metrics-token",
        "channel_allowed_networks": ["127.0.0.0/8"],  # the tests' receivers listen on loopback
        **overrides,
    }
    return Settings(**values)


@dataclass
class InProcess:
    app: FastAPI
    http: httpx.AsyncClient
    settings: Settings

    @property
    def platform(self) -> Platform:
        platform: Platform = self.app.state.platform
        return platform


@asynccontextmanager
async def in_process(
    config: Settings, *, headers: dict[str, str] | None = None, client: tuple[str, int] = ("127.0.0.1", 123)
) -> AsyncIterator[InProcess]:
    """The app started with ``config`` (its lifespan runs: migrations, executor, caches) and a client of it
    sending ``headers`` with every request, from address ``client``."""
    app = create_app(bootstrap.server(config))
    lifespan = app.router.lifespan_context(app)
    before = asyncio.all_tasks()
    await lifespan.__aenter__()
    try:
        transport = httpx.ASGITransport(app=app, client=client)
        async with httpx.AsyncClient(transport=transport, base_url="http://dockyard", headers=headers) as http:
            yield InProcess(app, http, config)
    except BaseException as e:
        if not await _stopped(lifespan, e, before):
            raise
    else:
        await _stopped(lifespan, None, before)


STOP_WITHIN = 60.0  # seconds for an in-process server to stop (its background tasks end when cancelled)


async def _stopped(lifespan: AbstractAsyncContextManager[Any], error: BaseException | None, before: set[Any]) -> bool:
    """Leave ``lifespan`` (True: it swallowed ``error``) within :data:`STOP_WITHIN` seconds, else
    AssertionError naming the server's tasks still running: a task that ignores its cancellation would
    otherwise hang the test until pytest-timeout, with nothing saying what it waited for. (Left in a
    task of its own: a timeout cancelling this one would only be passed on to the task it awaits.)"""
    trace = error.__traceback__ if error else None
    stopping = asyncio.create_task(lifespan.__aexit__(type(error) if error else None, error, trace))
    done, _ = await asyncio.wait({stopping}, timeout=STOP_WITHIN)
    if not done:
        me = {stopping, asyncio.current_task()}
        left = [f"{t.get_name()} at {_frame(t)}" for t in asyncio.all_tasks() - before - me if not t.done()]
        raise AssertionError(f"the in-process server did not stop within {STOP_WITHIN:.0f}s; left: {left}") from error
    return bool(stopping.result())


def _frame(task: asyncio.Task[Any]) -> str:
    stack = task.get_stack()
    return f"{stack[-1].f_code.co_qualname}:{stack[-1].f_lineno}" if stack else "?"


def process_env(database_url: str, state: Path, **extra: str) -> dict[str, str]:
    """The environment of a server process on ``database_url`` with :data:`ADMIN_TOKEN`; ``extra`` are
    more ``DOCKYARD_*`` variables, e.g. ``DOCKYARD_EXECUTOR="false"``."""
    return {
        "DOCKYARD_DATABASE_URL": database_url,
        "DOCKYARD_ADMIN_TOKEN": ADMIN_TOKEN,
        "DOCKYARD_STATE_DIR": str(state),
        "DOCKYARD_CHANNEL_ALLOWED_NETWORKS": "127.0.0.0/8",  # the tests' receivers listen on loopback
        **extra,
    }


@dataclass
class ServerProcess:
    """A ``dockyard`` server process, its base URL and its log (stdout and stderr)."""

    proc: subprocess.Popen[bytes]
    url: str
    log: Path

    @classmethod
    def start(cls, env: dict[str, str], log: Path, *, command: str = "server", port: int = 0) -> ServerProcess:
        """``dockyard COMMAND --port PORT`` (a free port if 0) with ``env`` over this environment; not
        waited for (see :meth:`wait_ready`)."""
        port = port or free_port()
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [DOCKYARD, command, "--port", str(port)],
                env={**os.environ, **env},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        return cls(proc, f"http://127.0.0.1:{port}", log)

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def wait_ready(self, timeout: float = 90.0) -> httpx.Response:
        """The first answer of ``/readyz`` (200, or 503 naming what is not ready); AssertionError with
        the log if the process exits or nothing answers within ``timeout``."""

        def answer() -> httpx.Response | Not:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited {self.proc.returncode}:\n{self.log.read_text()}")
            response = httpx.get(f"{self.url}/readyz", timeout=5.0)
            return response if response.status_code in (200, 503) else Not(response.status_code)

        return eventually_blocking(
            answer, f"an answer from {self.url}/readyz", timeout=timeout, interval=0.1, retry=(httpx.HTTPError,)
        )

    def stop(self) -> None:
        """Ctrl-C (a clean shutdown), then SIGKILL after 15 s."""
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def kill(self) -> None:
        """kill -9: no shutdown, no cleanup, leases left to lapse."""
        self.proc.kill()
        self.proc.wait()

    def running(self) -> bool:
        return self.proc.poll() is None


@contextmanager
def server_process(
    env: dict[str, str], log: Path, *, command: str = "server", port: int = 0
) -> Iterator[ServerProcess]:
    """A server process, ready when entered, stopped on leaving (even when the test failed)."""
    server = ServerProcess.start(env, log, command=command, port=port)
    try:
        server.wait_ready()
        yield server
    finally:
        if server.running():
            server.stop()
