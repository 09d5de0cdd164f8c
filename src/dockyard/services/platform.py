"""The running platform: the adapters one Dockyard process shares, built from settings."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from dockyard.adapters.db.database import Database
from dockyard.adapters.kube.pool import ClusterPool
from dockyard.adapters.secretbox import SecretBox
from dockyard.domain.access import Principal
from dockyard.domain.model import Group
from dockyard.domain.versions import SealedValue
from dockyard.services import credentials, keys
from dockyard.services.generations import GenerationCache
from dockyard.services.live import LiveState
from dockyard.settings import Settings


@dataclass
class Platform:
    settings: Settings
    db: Database
    clusters: ClusterPool
    live: LiveState
    box: SecretBox  # seals and opens secrets at rest (kubeconfigs, secret env values)
    # Reads kept while the database's generations are unchanged (see services/generations.py):
    # who holds which bearer token, and groups by (system, application, name).
    principals: GenerationCache[Principal] = field(default_factory=GenerationCache)
    groups: GenerationCache[Group] = field(default_factory=GenerationCache)
    # Set when an operation is recorded, so this process's executor starts it at once, not at its next poll.
    operations_added: asyncio.Event = field(default_factory=asyncio.Event)
    # Set when a release is given a command, so this process's release runners act at once.
    releases_steered: asyncio.Event = field(default_factory=asyncio.Event)
    # Set when a build is queued or asked to cancel, so this process's build runner looks at once.
    builds_added: asyncio.Event = field(default_factory=asyncio.Event)

    @classmethod
    async def start(cls, settings: Settings) -> Platform:
        """Open the secret box (its key must exist: see :func:`keys.ensure_secret_key`) and the
        database (migrating it if ``auto_migrate``), check the key is the database's and seal the
        kubeconfigs still registered by path; then an empty cluster pool and no watches (:meth:`watch`
        starts them)."""
        box = keys.open_box(settings)
        db = Database(settings.database_url)
        try:
            if settings.auto_migrate:
                await db.upgrade()
            await keys.check_database_key(db, box)
            await credentials.seal_path_kubeconfigs(db, box)
        except BaseException:
            await db.dispose()
            raise
        kubeconfig_of = credentials.kubeconfig_reader(box)
        return cls(
            settings=settings, db=db, clusters=ClusterPool(kubeconfig_of), live=LiveState(kubeconfig_of), box=box
        )

    def seal_value(self, value: str) -> SealedValue:
        """A secret env value as version specs hold it: sealed, with its keyed fingerprint."""
        return SealedValue(token=self.box.seal(value), fingerprint=self.box.fingerprint(value))

    async def watch(self) -> None:
        """Start (or bring up to date) the watch caches of every registered cluster."""
        async with self.db.unit_of_work() as uow:
            clusters = await uow.clusters.all()
        await self.live.sync(clusters)

    async def stop(self) -> None:
        await self.live.aclose()
        await self.clusters.aclose()
        await self.db.dispose()
