"""The releases repository on a real SQLite database: a new total for a release under way (one cluster,
or several with the count of each), what refuses one, and the next cluster beginning at its count."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from dockyard.domain.access import Principal
from dockyard.domain.model import GroupPath
from dockyard.domain.operations import ReleaseParams
from dockyard.domain.release import Release
from dockyard.services import deploys
from dockyard.services.platform import Platform
from tests.unit.platforms import shop_platform

ADMIN = Principal("admin", admin=True)
PATH = GroupPath("shop", "web", "prod")
TWO = ({"cluster": "b", "instances": 4}, {"cluster": "local", "instances": 8})


@pytest.fixture
async def platform(tmp_path: Path) -> AsyncIterator[Platform]:
    async with shop_platform(tmp_path) as started:
        yield started


async def started(
    platform: Platform, *, clusters: tuple[dict[str, Any], ...] = (), strategy: str = "gray", **fields: Any
) -> str:
    """A release under way (paused at 20 %), on ``clusters`` if given (b under way) else on one of 12."""
    operation = deploys.pending("release", ADMIN, PATH, ReleaseParams(2, strategy=strategy))
    release = Release(
        id=operation.id,
        system="shop",
        app="web",
        group="prod",
        strategy=strategy,
        stable_version=1,
        new_version=2,
        total=int(clusters[0]["instances"]) if clusters else 12,
        steps=("20%", "pause", "100%"),
        step=1,
        status="paused",
        paused=False,
        command="",
        pause_until=None,
        ledger=({"event": "started"},),
        error="",
        created_by="admin",
        clusters=clusters,
    )
    async with platform.db.unit_of_work() as uow:
        await uow.operations.add(operation)
        await uow.releases.add(release)
    if fields:
        async with platform.db.unit_of_work() as uow:
            await uow.releases.record(operation.id, **fields)
    return operation.id


async def set_total(platform: Platform, release_id: str, total: int, clusters: Mapping[str, int] | None) -> bool:
    async with platform.db.unit_of_work() as uow:
        return await uow.releases.set_total(release_id, total, by="autoscaler", clusters=clusters)


async def get(platform: Platform, release_id: str) -> Release:
    async with platform.db.unit_of_work() as uow:
        found = await uow.releases.get(release_id)
    assert found is not None
    return found


async def test_a_release_on_one_cluster_takes_a_total(platform: Platform) -> None:
    release_id = await started(platform)
    assert await set_total(platform, release_id, 6, None)
    got = await get(platform, release_id)
    assert got.total == 6
    assert {k: v for k, v in got.ledger[-1].items() if k != "at"} == {
        "event": "scale",
        "by": "autoscaler",
        "from": 12,
        "to": 6,
    }


async def test_a_release_across_clusters_takes_each_clusters_count(platform: Platform) -> None:
    release_id = await started(platform, clusters=TWO)
    assert await set_total(platform, release_id, 6, {"b": 2, "local": 4})
    got = await get(platform, release_id)
    assert got.clusters == ({"cluster": "b", "instances": 2}, {"cluster": "local", "instances": 4})
    assert got.total == 2  # b's: the cluster under way
    assert {k: v for k, v in got.ledger[-1].items() if k != "at"} == {
        "event": "scale",
        "by": "autoscaler",
        "from": 12,
        "to": 6,
        "clusters": {"b": {"from": 4, "to": 2}, "local": {"from": 8, "to": 4}},
    }
    # The next cluster begins at the count the release now gives it (read with the row's lock).
    async with platform.db.unit_of_work() as uow:
        await uow.releases.record(release_id, cluster_index=1, step=0)
    assert (await get(platform, release_id)).total == 4


@pytest.mark.parametrize(
    ("total", "clusters"),
    [
        (6, None),  # no split: a manual scale of a release across clusters
        (6, {"b": 2, "c": 4}),  # other clusters than the release's
        (6, {"b": 2}),
        (7, {"b": 2, "local": 4}),  # counts that do not add up to the total
    ],
)
async def test_a_release_across_clusters_takes_no_total_without_its_clusters_counts(
    platform: Platform, total: int, clusters: dict[str, int] | None
) -> None:
    release_id = await started(platform, clusters=TWO)
    assert not await set_total(platform, release_id, total, clusters)
    got = await get(platform, release_id)
    assert (got.total, got.clusters, len(got.ledger)) == (4, TWO, 1)


@pytest.mark.parametrize(
    "fields",
    [
        {"status": "aborting"},
        {"status": "aborted"},
        {"status": "succeeded"},
        {"strategy": "rolling"},
        {"command": "abort"},  # given, not yet taken: the abort goes first
    ],
)
async def test_a_release_that_ends_or_rolls_takes_no_total(platform: Platform, fields: dict[str, Any]) -> None:
    strategy = fields.get("strategy", "gray")
    status = {k: v for k, v in fields.items() if k == "status"}
    release_id = await started(platform, clusters=TWO, strategy=strategy, **status)
    if "command" in fields:
        async with platform.db.unit_of_work() as uow:
            assert await uow.releases.command(release_id, command=fields["command"])
    before = await get(platform, release_id)
    assert not await set_total(platform, release_id, 6, {"b": 2, "local": 4})
    assert not await set_total(platform, release_id, 6, None)
    after = await get(platform, release_id)
    assert replace(after, updated_at=None) == replace(before, updated_at=None)
