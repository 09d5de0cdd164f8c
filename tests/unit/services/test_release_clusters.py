"""A release across clusters scaled while a cluster is under way, on a real SQLite database: the cluster
done is recorded at the count it was brought to, and the next begins at the count the scale gave it
(not the one it had when the release started)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from dockyard.domain.access import Principal
from dockyard.domain.model import GroupPath
from dockyard.domain.operations import ReleaseParams
from dockyard.domain.release import Release
from dockyard.services import deploys, release_runner
from dockyard.services.platform import Platform
from tests.unit.platforms import shop_platform

ADMIN = Principal("admin", admin=True)
PATH = GroupPath("shop", "web", "prod")


@pytest.fixture
async def platform(tmp_path: Path) -> AsyncIterator[Platform]:
    async with shop_platform(tmp_path, clusters=("local", "b")) as started:
        async with started.db.unit_of_work() as uow:
            await uow.groups.set_cluster(PATH, "b", instances=4, version=1)
            await uow.groups.set_cluster(PATH, "local", instances=8, version=1)
        yield started


async def test_the_next_cluster_begins_at_the_count_a_scale_gave_it(platform: Platform) -> None:
    operation = deploys.pending("release", ADMIN, PATH, ReleaseParams(2))
    release = Release(
        id=operation.id,
        system="shop",
        app="web",
        group="prod",
        strategy="gray",
        stable_version=1,
        new_version=2,
        total=4,
        steps=("20%", "pause", "100%"),
        step=2,
        status="progressing",
        paused=False,
        command="",
        pause_until=None,
        ledger=(),
        error="",
        created_by="admin",
        clusters=({"cluster": "b", "instances": 4}, {"cluster": "local", "instances": 8}),
    )
    async with platform.db.unit_of_work() as uow:
        await uow.operations.add(operation)
        await uow.releases.add(release)
    async with platform.db.unit_of_work() as uow:  # the autoscaler, while b is handed back
        assert await uow.releases.set_total(release.id, 6, by="autoscaler", clusters={"b": 2, "local": 4})
    await release_runner._cluster_done(platform, release, "b", 2, 2)  # the runner's (older) view of it
    async with platform.db.unit_of_work() as uow:
        got = await uow.releases.get(release.id)
        group = await uow.groups.get(PATH)
    assert got is not None
    assert (got.cluster_index, got.total, got.step, got.status) == (1, 4, 0, "progressing")
    assert got.ledger[-1]["event"] == "cluster-done"
    assert group is not None
    assert {(p.cluster, p.instances, p.version) for p in group.clusters} == {("b", 2, 2), ("local", 8, 1)}
