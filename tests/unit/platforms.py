"""A started platform on a fresh SQLite database with the group ``shop/web/prod``, for service and
repository tests that need the real database and bootstrap but no cluster."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from dockyard import bootstrap
from dockyard.domain.access import Principal
from dockyard.domain.clusters import IN_CLUSTER, Cluster
from dockyard.domain.model import AppPath, GroupPath
from dockyard.services import applications
from dockyard.services.platform import Platform
from dockyard.settings import Settings

ADMIN = Principal("admin", admin=True)
SHOP_WEB_PROD = GroupPath("shop", "web", "prod")


@asynccontextmanager
async def shop_platform(tmp_path: Path, *, clusters: Sequence[str] = ("local",)) -> AsyncIterator[Platform]:
    """The platform, ``clusters`` registered (in-cluster credentials, never reached), the system ``shop``,
    its application ``web`` and the group ``prod`` on the first cluster; stopped on exit."""
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'd.db'}", secret_key_file=tmp_path / "k")
    bootstrap.ensure_secret_key(settings)
    started = await bootstrap.start(settings)
    try:
        async with started.db.unit_of_work() as uow:
            for name in clusters:
                await uow.clusters.upsert(Cluster(name, IN_CLUSTER, kubeconfig_form="in-cluster"))
        await applications.create_system(started, ADMIN, name="shop")
        await applications.create_application(started, ADMIN, system="shop", name="web", repository="r.local/web")
        await applications.create_group(
            started, ADMIN, app=AppPath("shop", "web"), name="prod", environment="prod", cluster=clusters[0]
        )
        yield started
    finally:
        await started.stop()
