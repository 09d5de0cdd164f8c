"""The platform without HTTP, for tests of the services themselves: started on a database, with
cluster ``local`` and groups, and a deploy run to its end in the test's own task."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from dockyard import bootstrap
from dockyard.adapters.secretbox import SecretBox
from dockyard.domain.access import Principal
from dockyard.domain.model import AppPath, GroupPath, Operation
from dockyard.domain.targets import ExistingVersion, WholeSpec
from dockyard.services import applications as svc
from dockyard.services.clusters import register_cluster
from dockyard.services.deploys import run_operation, start_deploy
from dockyard.services.platform import Platform
from dockyard.settings import Settings

ALICE = Principal("alice", admin=True)


def settings(database_url: str) -> Settings:
    """Settings of a platform on ``database_url`` with a secret key of its own."""
    return Settings(database_url=database_url, secret_key=SecretBox.generate_key())


@asynccontextmanager
async def started(
    database_url: str,
    *,
    kubeconfig: str = "in-cluster",
    labels: dict[str, str] | None = None,
    config: Settings | None = None,
) -> AsyncIterator[Platform]:
    """A platform on ``database_url`` (with ``config``, else :func:`settings`) with cluster ``local``
    registered by ``kubeconfig`` (the default names no reachable cluster: for tests that never deploy)."""
    platform = await bootstrap.start(config or settings(database_url))
    try:
        await register_cluster(platform, name="local", kubeconfig=kubeconfig, labels=labels or {})
        yield platform
    finally:
        await platform.stop()


async def create_groups(
    platform: Platform,
    system: str,
    *groups: str,
    app: str = "web",
    repository: str = "registry.local/shop/web",
    actor: Principal = ALICE,
    **system_fields: Any,
) -> None:
    """System ``system`` with application ``app`` and ``groups`` (production groups in ``local``)."""
    await svc.create_system(platform, actor, name=system, **system_fields)
    await svc.create_application(platform, actor, system=system, name=app, repository=repository)
    for group in groups:
        await svc.create_group(
            platform, actor, app=AppPath(system, app), name=group, environment="prod", cluster="local"
        )


async def deploy(
    platform: Platform, system: str, group: str, spec: dict[str, Any], *, actor: Principal = ALICE
) -> Operation:
    """A new version of ``spec`` deployed to the group and run to its end here; the ended operation."""
    path = GroupPath(system, "web", group)
    version = await svc.create_version(platform, actor, group=path, target=WholeSpec(spec))
    started_op = await start_deploy(platform, actor, group=path, target=ExistingVersion(version.number))
    return await run_operation(platform, started_op.id)
