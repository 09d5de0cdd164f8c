"""For the alerting tests: an Alertmanager started exactly as the sandbox starts it (Debian's binary,
the sandbox's generated configuration, by pid), and a Dockyard server listening on a real port,
since Alertmanager must reach its webhook over HTTP."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from dockyard import bootstrap
from dockyard.api.app import create_app
from dockyard.sandbox import alerting, processes
from dockyard.sandbox.layout import Layout, Ports
from dockyard.services.platform import Platform
from dockyard.settings import Settings
from tests.integration.harness.tokens import ADMIN
from tests.integration.harness.waiting import eventually_blocking


@dataclass
class RunningAlertmanager:
    layout: Layout
    ports: Ports
    # When each alert (by its labels) first fired: sent as startsAt every time, as Prometheus sends
    # the alert's activeAt. Without it Alertmanager 0.25 takes startsAt = endsAt (a future start).
    started: dict[frozenset[tuple[str, str]], dt.datetime] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports.alertmanager}"

    @property
    def token(self) -> str:
        return alerting.webhook_token(self.layout)

    def point_at(self, webhook_url: str) -> None:
        alerting.point_webhook(self.layout, self.ports, webhook_url)

    async def fire(self, labels: dict[str, str], *, ends_in: float = 300.0) -> None:
        """What Prometheus does: POST the alert (again) to /api/v2/alerts with its first start;
        ``ends_in`` ≤ 0 resolves it (and a later fire starts a new episode)."""
        now = dt.datetime.now(dt.UTC)
        key = frozenset(labels.items())
        starts = self.started.setdefault(key, now)
        if ends_in <= 0:
            del self.started[key]
        alert: dict[str, Any] = {
            "labels": labels,
            "annotations": {"summary": "from the test"},
            "startsAt": _rfc3339(starts),
            "endsAt": _rfc3339(now + dt.timedelta(seconds=ends_in)),
        }
        async with httpx.AsyncClient(timeout=10.0) as client:
            response = await client.post(f"{self.url}/api/v2/alerts", json=[alert])
        assert response.status_code == 200, response.text


def _rfc3339(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


@contextmanager
def alertmanager(root: Path) -> Iterator[RunningAlertmanager]:
    """Alertmanager on a free port under ``root``, started like the sandbox's component; stopped by pid."""
    layout = Layout(root)
    layout.make_dirs()
    ports = Ports.pick_free()
    alerting.write_config(layout)
    pid_file = layout.pid_file("alertmanager")
    processes.start(alerting.argv(layout, ports), pid_file=pid_file, log_file=layout.log("alertmanager"))
    running = RunningAlertmanager(layout, ports)
    try:
        eventually_blocking(
            lambda: httpx.get(f"{running.url}/-/ready", timeout=2.0).status_code == 200,
            "Alertmanager ready",
            timeout=30,
            retry=(httpx.HTTPError,),
        )
        yield running
    finally:
        processes.stop(pid_file, marker=str(layout.root))


@dataclass
class Listening:
    url: str
    http: httpx.AsyncClient  # sends the admin's token
    platform: Platform


@asynccontextmanager
async def listening(config: Settings) -> AsyncIterator[Listening]:
    """The API server on ``config.port`` of 127.0.0.1, its lifespan running."""
    port = config.port
    app = create_app(bootstrap.server(config))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
                raise AssertionError("the server stopped before it started")
            await asyncio.sleep(0.05)
        url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=url, headers=ADMIN, timeout=30.0) as http:
            yield Listening(url, http, app.state.platform)
    finally:
        server.should_exit = True
        await task
