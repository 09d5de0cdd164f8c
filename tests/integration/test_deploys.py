"""Deploys as persisted operations, against the sandbox, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from lightkube.resources.apps_v1 import Deployment

from dockyard import bootstrap
from dockyard.adapters.kube.client import KubeCluster
from dockyard.domain.access import Principal
from dockyard.domain.builds import Build, Source
from dockyard.domain.errors import Conflict, InvalidInput, NotFound
from dockyard.domain.model import GroupPath, Operation
from dockyard.domain.operations import DeployParams
from dockyard.domain.targets import ExistingVersion, WholeSpec, parse_target
from dockyard.services import applications as svc
from dockyard.services.deploys import run_operation, start_deploy
from dockyard.services.executor import run_executor
from dockyard.services.platform import Platform
from dockyard.settings import Settings
from tests.integration.harness import platforms
from tests.integration.harness.sandboxes import Sandbox
from tests.integration.harness.servers import SHORT_LEASE, ServerProcess
from tests.integration.harness.specs import TINY as SPEC
from tests.integration.harness.waiting import Not, eventually


@pytest.fixture
def settings(database_url: str) -> Settings:
    return platforms.settings(database_url)


@pytest.fixture
async def system(sandbox: Sandbox, settings: Settings, kube: KubeCluster) -> AsyncIterator[tuple[Platform, str]]:
    """A platform on a fresh database with cluster `local` = the sandbox, and a system shop-<id>/web/prod."""
    name = f"shop-{uuid.uuid4().hex[:8]}"
    kubeconfig = sandbox.kubeconfig.read_text()
    async with platforms.started(settings.database_url, kubeconfig=kubeconfig, config=settings) as platform:
        await platforms.create_groups(platform, name, "prod", repository="registry.local/web")
        yield platform, name
        await kube.delete("v1", "Namespace", name)


async def _version(platform: Platform, system: str, **changes: Any) -> int:
    created = await svc.create_version(
        platform,
        Principal("bob", admin=True),
        group=GroupPath(system, "web", "prod"),
        target=WholeSpec({**SPEC, **changes}),
    )
    return created.number


async def _deployment(kube: KubeCluster, system: str) -> dict[str, Any]:
    return await kube.get("apps/v1", "Deployment", "web-prod", namespace=system)


async def test_deploy_runs_every_instance_of_the_version_and_moves_the_group(
    system: tuple[Platform, str], kube: KubeCluster
) -> None:
    platform, name = system
    v1 = await _version(platform, name)
    op = await start_deploy(
        platform, Principal("bob", admin=True), group=GroupPath(name, "web", "prod"), target=ExistingVersion(v1)
    )
    assert op.status == "pending"
    done = await run_operation(platform, op.id)
    assert (done.status, done.error) == ("succeeded", "")
    assert done.started_at is not None
    assert done.finished_at is not None
    pods = await kube.list("v1", "Pod", namespace=name, labels={"dockyard.io/group": "prod"})
    assert len(pods) == 3
    assert {p["metadata"]["labels"]["dockyard.io/version"] for p in pods} == {"1"}
    async with platform.db.unit_of_work() as uow:
        group = await uow.groups.get(GroupPath(name, "web", "prod"))
    assert group is not None
    assert group.current_version == 1

    # The same version again succeeds without writing to the cluster: a hand edit (drift, for
    # `reconcile` to undo) survives it, where an apply would have forced the image back.
    hand = "registry.local/shop/web:by-hand"
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": hand}]}}}}
    await kube.client.patch(Deployment, "web-prod", patch, namespace=name)
    again = await run_operation(
        platform,
        (
            await start_deploy(
                platform, Principal("bob", admin=True), group=GroupPath(name, "web", "prod"), target=ExistingVersion(v1)
            )
        ).id,
    )
    assert again.status == "succeeded"
    after = await _deployment(kube, name)
    assert after["spec"]["template"]["spec"]["containers"][0]["image"] == hand

    # Running a finished operation again changes nothing either (nothing runs twice).
    assert (await run_operation(platform, op.id)).finished_at == done.finished_at
    history = [
        (o.action, o.status)
        for o in await svc.history(platform, Principal("alice", admin=True), GroupPath(name, "web", "prod"))
    ][:2]
    assert history == [("deploy", "succeeded"), ("deploy", "succeeded")]


async def _succeeded_build(platform: Platform, system: str, image: str) -> str:
    """A build of shop/web that succeeded with ``image`` (as the build runner records one)."""
    build_id = str(uuid.uuid4())
    source = Source(url="https://git.local/shop/web.git", ref_kind="branch", ref="main")
    made = Build(build_id, system, "web", source, (), False, 600, "queued", "carol")
    async with platform.db.unit_of_work() as uow:
        await uow.builds.add(made)
        assert await uow.builds.move(build_id, "queued", "succeeded", image=image)
    return build_id


async def test_flags_on_a_new_group_make_its_first_version_from_defaults(
    system: tuple[Platform, str], kube: KubeCluster
) -> None:
    """`dockyard deploy GROUP --build ID --instances 3 --flavor small` on a group with no version yet:
    the build gives the image, the flags the rest, the defaults what they leave out (no ports)."""
    platform, name = system
    group, bob = GroupPath(name, "web", "prod"), Principal("bob", admin=True)
    image = "registry.local/web@sha256:" + "b" * 64
    build = await _succeeded_build(platform, name, image)

    with pytest.raises(InvalidInput, match="needs an image or a build") as e:
        await start_deploy(platform, bob, group=group, target=parse_target(changes={"instances": 3}))
    assert e.value.field == "image"

    changes = {"build": build, "instances": 3, "flavor": "small"}
    op = await start_deploy(platform, bob, group=group, target=parse_target(changes=changes))
    done = await run_operation(platform, op.id)
    assert (done.status, done.error) == ("succeeded", "")
    async with platform.db.unit_of_work() as uow:
        versions = await uow.versions.of_group(group)
    assert [v.number for v in versions] == [1]  # the refused deploy wrote nothing
    spec = versions[0].spec
    assert (spec.image, spec.flavor, spec.instances, spec.ports) == (image, "small", 3, ())
    deployment = await _deployment(kube, name)
    assert deployment["spec"]["replicas"] == 3
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == image

    # From then on, changes apply to the latest version as before.
    op = await start_deploy(platform, bob, group=group, target=parse_target(changes={"instances": 2}))
    assert (await run_operation(platform, op.id)).status == "succeeded"
    async with platform.db.unit_of_work() as uow:
        latest = await uow.versions.get(group, 2)
    assert latest is not None
    assert (latest.spec.image, latest.spec.flavor, latest.spec.instances) == (image, "small", 2)


@pytest.mark.both_databases
async def test_two_deploys_at_once_one_wins_the_other_conflicts(system: tuple[Platform, str]) -> None:
    platform, name = system
    v1 = await _version(platform, name)

    async def attempt() -> str:
        try:
            return (
                await start_deploy(
                    platform,
                    Principal("bob", admin=True),
                    group=GroupPath(name, "web", "prod"),
                    target=ExistingVersion(v1),
                )
            ).id
        except Conflict:
            return "conflict"

    results = await asyncio.gather(attempt(), attempt(), attempt())
    assert sorted(r == "conflict" for r in results) == [False, True, True]
    winner = next(r for r in results if r != "conflict")
    assert (await run_operation(platform, winner)).status == "succeeded"
    # Once it has finished, the group takes a new deploy again.
    follow = await start_deploy(
        platform, Principal("bob", admin=True), group=GroupPath(name, "web", "prod"), target=ExistingVersion(v1)
    )
    assert follow.status == "pending"


async def test_a_deploy_that_cannot_be_scheduled_fails_with_the_schedulers_reason(
    system: tuple[Platform, str],
) -> None:
    platform, name = system
    huge = await _version(platform, name, flavor="xlarge", instances=200)  # 1,600 CPUs on 20 × 32
    op = await start_deploy(
        platform,
        Principal("bob", admin=True),
        group=GroupPath(name, "web", "prod"),
        target=ExistingVersion(huge),
        deadline_seconds=10,
        force=True,
    )
    done = await run_operation(platform, op.id)
    assert done.status == "failed"
    assert done.error.startswith("progress deadline of 10s passed with ")
    assert "Insufficient cpu" in done.error
    async with platform.db.unit_of_work() as uow:
        group = await uow.groups.get(GroupPath(name, "web", "prod"))
    assert group is not None
    assert group.current_version is None


@pytest.mark.both_databases
async def test_an_interrupted_deploy_resumes_and_unknown_ones_are_not_found(system: tuple[Platform, str]) -> None:
    platform, name = system
    v1 = await _version(platform, name)
    op = await start_deploy(
        platform, Principal("bob", admin=True), group=GroupPath(name, "web", "prod"), target=ExistingVersion(v1)
    )
    async with platform.db.unit_of_work() as uow:
        await uow.operations.start(op.id)  # a previous executor began it, then died
    done = await run_operation(platform, op.id)
    assert done.status == "succeeded"
    assert done.started_at is not None
    with pytest.raises(NotFound):
        await run_operation(platform, str(uuid.uuid4()))
    with pytest.raises(NotFound, match="version 9 does not exist"):
        await start_deploy(
            platform, Principal("bob", admin=True), group=GroupPath(name, "web", "prod"), target=ExistingVersion(9)
        )


@pytest.mark.both_databases
async def test_a_deploy_survives_kill_9_of_the_server(
    system: tuple[Platform, str], settings: Settings, database_url: str, kube: KubeCluster, tmp_path: Path
) -> None:
    platform, name = system
    v1 = await _version(platform, name, instances=60)
    op = await start_deploy(
        platform,
        Principal("bob", admin=True),
        group=GroupPath(name, "web", "prod"),
        target=ExistingVersion(v1),
        deadline_seconds=180,
    )
    assert settings.secret_key is not None
    env = {
        "DOCKYARD_DATABASE_URL": database_url,
        "DOCKYARD_STATE_DIR": str(tmp_path),
        "DOCKYARD_SECRET_KEY": settings.secret_key.get_secret_value(),  # the database's key
        **SHORT_LEASE,
    }
    server = ServerProcess.start(env, tmp_path / "server-1.log")
    try:
        status = await _wait_status(platform, op.id, {"running", "succeeded", "failed"})
    finally:
        server.kill()  # SIGKILL: no shutdown, no cleanup
    assert status == "running", "the deploy finished before the kill; make it longer"

    server = ServerProcess.start(env, tmp_path / "server-2.log", port=server.port)
    try:
        assert await _wait_status(platform, op.id, {"succeeded", "failed"}, timeout=180) == "succeeded"
    finally:
        server.stop()
    deployment = await _deployment(kube, name)
    assert deployment["status"]["readyReplicas"] == 60
    assert deployment["metadata"]["generation"] == 1  # one rollout, not two
    async with platform.db.unit_of_work() as uow:
        group = await uow.groups.get(GroupPath(name, "web", "prod"))
    assert group is not None
    assert group.current_version == v1


async def _wait_status(platform: Platform, operation_id: str, wanted: set[str], timeout: float = 60) -> str:
    """The operation's status, read from the database, once it is one of ``wanted``."""

    async def reached() -> str | Not:
        async with platform.db.unit_of_work() as uow:
            op = await uow.operations.get(operation_id)
        return op.status if op is not None and op.status in wanted else Not(op)

    return await eventually(reached, f"operation {operation_id} to be {wanted}", timeout=timeout, interval=0.05)


async def test_a_version_without_ports_removes_the_service_and_rollback_brings_it_back(
    system: tuple[Platform, str], kube: KubeCluster
) -> None:
    platform, name = system
    with_port = await _version(platform, name)
    without = await _version(platform, name, ports=[])
    for number, has_service in [(with_port, True), (without, False), (with_port, True)]:
        op = await start_deploy(
            platform, Principal("bob", admin=True), group=GroupPath(name, "web", "prod"), target=ExistingVersion(number)
        )
        assert (await run_operation(platform, op.id)).status == "succeeded"
        services = await kube.list("v1", "Service", namespace=name, labels={"dockyard.io/group": "prod"})
        assert [s["metadata"]["name"] for s in services] == (["web-prod"] if has_service else [])


@pytest.mark.both_databases
async def test_an_operation_whose_target_is_gone_fails_and_frees_the_group(system: tuple[Platform, str]) -> None:
    platform, name = system
    v1 = await _version(platform, name)
    broken = Operation(
        id=str(uuid.uuid4()),
        action="deploy",
        actor="bob",
        system=name,
        app="web",
        group="prod",
        params=DeployParams(42),
    )
    async with platform.db.unit_of_work() as uow:
        await uow.operations.add(broken)
    done = await run_operation(platform, broken.id)
    assert (done.status, done.error) == ("failed", "the target of operation " + broken.id + " no longer exists")
    async with platform.db.unit_of_work() as uow:
        assert not await uow.operations.finish(broken.id, "succeeded")  # an ended operation stays ended
        assert (await uow.operations.get(broken.id)).status == "failed"  # type: ignore[union-attr]
    op = await start_deploy(
        platform, Principal("bob", admin=True), group=GroupPath(name, "web", "prod"), target=ExistingVersion(v1)
    )
    assert op.status == "pending"


@pytest.mark.both_databases
async def test_of_two_executors_on_one_database_one_runs_each_operation(
    system: tuple[Platform, str], settings: Settings, kube: KubeCluster
) -> None:
    platform, name = system
    v1 = await _version(platform, name, instances=2)
    op = await start_deploy(
        platform, Principal("bob", admin=True), group=GroupPath(name, "web", "prod"), target=ExistingVersion(v1)
    )
    async with platform.db.unit_of_work() as uow:
        assert await uow.operations.claim(op.id, "replica-a", seconds=0.5)
        assert not await uow.operations.claim(op.id, "replica-b", seconds=0.5)  # a holds it
        assert await uow.operations.claim(op.id, "replica-a", seconds=0.5)  # a renews
    await asyncio.sleep(0.6)
    async with platform.db.unit_of_work() as uow:
        assert await uow.operations.claim(op.id, "replica-b", seconds=30)  # a's lease lapsed: b takes over

    other = await bootstrap.start(settings)
    executors = [
        asyncio.create_task(run_executor(p, poll=0.2, runner=r))
        for p, r in ((platform, "replica-a"), (other, "replica-c"))
    ]
    try:
        await asyncio.sleep(2)
        async with platform.db.unit_of_work() as uow:
            waiting = await uow.operations.get(op.id)
        assert waiting is not None
        assert waiting.status == "pending"  # b holds the lease and runs nothing: nobody else may start it
        async with platform.db.unit_of_work() as uow:
            assert await uow.operations.claim(op.id, "replica-b", seconds=0.1)  # b lets go soon
        assert await _wait_status(platform, op.id, {"succeeded", "failed"}, timeout=60) == "succeeded"
    finally:
        for task in executors:
            task.cancel()
        await asyncio.gather(*executors, return_exceptions=True)
        await other.stop()
    deployment = await _deployment(kube, name)
    assert deployment["metadata"]["generation"] == 1
