"""The lease a server holds on the operations and builds it runs comes from the settings
(``DOCKYARD_LEASE_SECONDS``): it is how long a dead server's work waits before another resumes it."""

import asyncio
from pathlib import Path
from typing import Any

import pytest

from dockyard import bootstrap
from dockyard.api.app import create_app
from dockyard.settings import Settings


async def test_the_executor_and_the_build_runner_hold_work_for_the_configured_lease(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    leases: dict[str, float] = {}

    def runner(name: str) -> Any:
        async def run(platform: object, *, lease: float) -> None:
            leases[name] = lease
            await asyncio.Event().wait()  # runs until the server stops

        return run

    monkeypatch.setattr(bootstrap, "run_executor", runner("executor"))
    monkeypatch.setattr(bootstrap, "run_builds", runner("builds"))
    assert Settings().lease_seconds == 15.0  # by default a hiccup of a few seconds hands no work over
    monkeypatch.setenv("DOCKYARD_LEASE_SECONDS", "4")
    app = create_app(bootstrap.server(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'd.db'}")))
    async with app.router.lifespan_context(app):
        await asyncio.sleep(0.1)
    assert leases == {"executor": 4.0, "builds": 4.0}
