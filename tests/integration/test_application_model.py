"""The application model in a real database, on SQLite and on PostgreSQL: what is stored and read back,
conflicts and version numbers under concurrency."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest

from dockyard.domain.access import Principal
from dockyard.domain.errors import Conflict, InvalidInput, NotFound
from dockyard.domain.model import AppPath, GroupPath
from dockyard.domain.operations import CreateVersionParams
from dockyard.domain.targets import WholeSpec
from dockyard.services import applications as svc
from dockyard.services.platform import Platform
from tests.integration.harness import platforms

pytestmark = pytest.mark.both_databases
SPEC: dict[str, Any] = {
    "image": "registry.local/shop/web:1",
    "flavor": "small",
    "instances": 3,
    "ports": [{"name": "http", "port": 8080}],
    "config_files": {"app.yaml": "a: 1\n"},
}


@pytest.fixture
async def platform(database_url: str) -> AsyncIterator[Platform]:
    async with platforms.started(database_url, labels={"idc": "local"}) as started:
        yield started


async def _shop(platform: Platform) -> None:
    await svc.create_system(platform, Principal("alice", admin=True), name="shop", cpu_millis=64000, memory_mib=131072)
    await svc.create_application(
        platform,
        Principal("alice", admin=True),
        system="shop",
        name="web",
        repository="registry.local/shop/web",
        business_id="b-1001",
    )
    await svc.create_group(
        platform,
        Principal("alice", admin=True),
        app=AppPath("shop", "web"),
        name="prod",
        environment="prod",
        cluster="local",
    )


async def test_the_hierarchy_and_numbered_versions_are_stored_and_read_back(platform: Platform) -> None:
    await _shop(platform)
    v1 = await svc.create_version(
        platform, Principal("bob", admin=True), group=GroupPath("shop", "web", "prod"), target=WholeSpec(SPEC)
    )
    v2 = await svc.create_version(
        platform,
        Principal("bob", admin=True),
        group=GroupPath("shop", "web", "prod"),
        target=WholeSpec({**SPEC, "image": "registry.local/shop/web:2"}),
        reason="new image",
    )
    assert (v1.number, v2.number) == (1, 2)
    async with platform.db.unit_of_work() as uow:
        group = await uow.groups.get(GroupPath("shop", "web", "prod"))
        stored = await uow.versions.of_group(GroupPath("shop", "web", "prod"))
        app = await uow.applications.get(AppPath("shop", "web"))
        system = await uow.systems.get("shop")
    assert group is not None
    assert (group.cluster, group.environment, group.latest_version, group.current_version) == ("local", "prod", 2, None)
    assert [v.spec for v in stored] == [v1.spec, v2.spec]
    assert stored[1].reason == "new image"
    assert stored[1].created_at.utcoffset() == dt.timedelta(0)  # aware UTC on SQLite as on PostgreSQL
    assert stored[1].created_at >= v1.created_at
    assert stored[1].created_by == "bob"
    assert app is not None
    assert app.business_id == "b-1001"
    assert system is not None
    assert system.quota.memory_mib == 131072
    history = await svc.history(platform, Principal("alice", admin=True), GroupPath("shop", "web", "prod"))
    assert [(o.action, o.actor, o.status) for o in history] == [
        ("create-version", "bob", "succeeded"),
        ("create-version", "bob", "succeeded"),
        ("create-group", "alice", "succeeded"),
    ]
    assert {o.params for o in history if o.action == "create-version"} == {
        CreateVersionParams(1),
        CreateVersionParams(2),
    }


async def test_duplicates_conflict_and_missing_parents_are_not_found(platform: Platform) -> None:
    await _shop(platform)
    with pytest.raises(Conflict, match="system 'shop' already exists"):
        await svc.create_system(platform, Principal("alice", admin=True), name="shop")
    with pytest.raises(Conflict, match="application 'web' already exists"):
        await svc.create_application(
            platform, Principal("a", admin=True), system="shop", name="web", repository="r.local/web"
        )
    with pytest.raises(NotFound, match="system 'nope' does not exist"):
        await svc.create_application(
            platform, Principal("a", admin=True), system="nope", name="web", repository="r.local/web"
        )
    with pytest.raises(NotFound, match="cluster 'far' is not registered"):
        await svc.create_group(
            platform,
            Principal("a", admin=True),
            app=AppPath("shop", "web"),
            name="gray",
            environment="prod",
            cluster="far",
        )
    with pytest.raises(NotFound, match="group 'nope' does not exist"):
        await svc.create_version(
            platform, Principal("a", admin=True), group=GroupPath("shop", "web", "nope"), target=WholeSpec(SPEC)
        )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"instances": -1}, "instances"),
        ({"instances": 100000}, "instances"),
        ({"flavor": "huge"}, "flavor"),
        ({"image": "Bad Host/web:1"}, "image"),
        ({"config_files": {"../x": "1"}}, "config_files.../x"),
        ({"config_files": {"big": "x" * (10 * 1024 * 1024)}}, "config_files.big"),
        ({"ports": [{"name": "a", "port": 80}, {"name": "b", "port": 80}]}, "ports[1].port"),
    ],
)
async def test_invalid_versions_write_nothing(platform: Platform, change: dict[str, Any], field: str) -> None:
    await _shop(platform)
    with pytest.raises(InvalidInput) as info:
        await svc.create_version(
            platform,
            Principal("a", admin=True),
            group=GroupPath("shop", "web", "prod"),
            target=WholeSpec({**SPEC, **change}),
        )
    assert info.value.field == field
    async with platform.db.unit_of_work() as uow:
        assert await uow.versions.count() == 0
        group = await uow.groups.get(GroupPath("shop", "web", "prod"))
    assert group is not None
    assert group.latest_version == 0
    assert [
        o.action for o in await svc.history(platform, Principal("alice", admin=True), GroupPath("shop", "web", "prod"))
    ] == ["create-group"]


async def test_concurrent_versions_get_distinct_numbers_or_a_conflict(platform: Platform) -> None:
    await _shop(platform)

    async def attempt(i: int) -> int | str:
        try:
            version = await svc.create_version(
                platform,
                Principal(f"u{i}", admin=True),
                group=GroupPath("shop", "web", "prod"),
                target=WholeSpec({**SPEC, "instances": i}),
            )
        except Conflict:
            return "conflict"
        return version.number

    results = await asyncio.gather(*(attempt(i) for i in range(1, 9)))
    numbers = sorted(r for r in results if isinstance(r, int))
    assert numbers, results  # at least one attempt must win
    assert numbers == list(range(1, len(numbers) + 1)), results  # no gaps, no number twice
    async with platform.db.unit_of_work() as uow:
        stored = await uow.versions.of_group(GroupPath("shop", "web", "prod"))
        group = await uow.groups.get(GroupPath("shop", "web", "prod"))
    assert [v.number for v in stored] == numbers
    assert group is not None
    assert group.latest_version == len(numbers)
    history = await svc.history(platform, Principal("alice", admin=True), GroupPath("shop", "web", "prod"))
    assert sorted(o.params.version for o in history if isinstance(o.params, CreateVersionParams)) == numbers


async def test_versions_made_one_after_another_never_conflict(platform: Platform) -> None:
    await _shop(platform)
    for expected in range(1, 6):
        version = await svc.create_version(
            platform, Principal("bob", admin=True), group=GroupPath("shop", "web", "prod"), target=WholeSpec(SPEC)
        )
        assert version.number == expected
