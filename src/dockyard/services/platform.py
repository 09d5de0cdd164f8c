"""The running platform: the adapters one Dockyard process shares, built from settings."""

from __future__ import annotations

from dataclasses import dataclass

from dockyard.adapters.db.database import Database
from dockyard.adapters.kube.pool import ClusterPool
from dockyard.settings import Settings


@dataclass
class Platform:
    settings: Settings
    db: Database
    clusters: ClusterPool

    @classmethod
    async def start(cls, settings: Settings) -> Platform:
        """Open the database (migrating it if ``auto_migrate``) and an empty cluster pool."""
        db = Database(settings.database_url)
        if settings.auto_migrate:
            await db.upgrade()
        return cls(settings, db, ClusterPool())

    async def stop(self) -> None:
        await self.clusters.aclose()
        await self.db.dispose()
