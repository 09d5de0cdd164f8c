"""The running platform: the adapters one Dockyard process shares, built from settings."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from dockyard.adapters.db.database import Database
from dockyard.adapters.kube.pool import ClusterPool
from dockyard.services.live import LiveState
from dockyard.settings import Settings


@dataclass
class Platform:
    settings: Settings
    db: Database
    clusters: ClusterPool
    live: LiveState
    # Set when an operation is recorded, so this process's executor starts it at once, not at its next poll.
    operations_added: asyncio.Event = field(default_factory=asyncio.Event)

    @classmethod
    async def start(cls, settings: Settings) -> Platform:
        """Open the database (migrating it if ``auto_migrate``), an empty cluster pool and no watches
        (:meth:`watch` starts them)."""
        db = Database(settings.database_url)
        if settings.auto_migrate:
            await db.upgrade()
        pool = ClusterPool()
        return cls(settings, db, pool, LiveState())

    async def watch(self) -> None:
        """Start (or bring up to date) the watch caches of every registered cluster."""
        async with self.db.unit_of_work() as uow:
            clusters = await uow.clusters.all()
        await self.live.sync(clusters)

    async def stop(self) -> None:
        await self.live.aclose()
        await self.clusters.aclose()
        await self.db.dispose()
