"""Operations on a group's cluster: deploy, rollback, scale, reconcile and delete.

Each ``start_*`` call authorizes, checks its input, and records a ``pending`` operation in one unit of
work (with the new version it needs, for a deploy of a new spec or a scale), then returns at once; the
API answers 202 with its id. At most one unfinished operation per group exists (a database index), so
of two concurrent changes one gets :class:`Conflict` and nothing of it is written.

:func:`run_operation` drives one to its end: ``running``; server-side apply of the system's namespace,
LimitRange and ResourceQuota and of the version's objects; wait until every instance of that version is
ready or the progress deadline passes; then ``succeeded`` (the group's current version moves) or
``failed`` with the cluster's reason. It may be called again for the same operation after a crash: a
finished operation is returned untouched, an unfinished one resumes (applying is idempotent, and the
deadline counts from the first start). Deploying the version that already runs writes nothing to the
cluster, except for ``reconcile``, which exists to write it again.

- ``deploy``: a version (existing, or made from a spec or changes in the same call).
- ``rollback``: an earlier version, as it was: no new version, no rebuild.
- ``scale``: a new version, copy of the running one with another instance count (history shows it).
- ``reconcile``: the running version applied again, taking back fields edited by hand.
- ``delete-group``: the group's objects removed from the cluster, then the group and its versions.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from dockyard.domain import autoscale
from dockyard.domain.access import Principal, authorize
from dockyard.domain.errors import Conflict, InvalidInput, NotFound
from dockyard.domain.failures import DatabaseConflict
from dockyard.domain.flavors import check_offered
from dockyard.domain.model import Group, GroupPath, Operation
from dockyard.domain.operations import (
    DEFAULT_DEADLINE,
    DeleteGroupParams,
    DeployParams,
    OperationParams,
    ScaleParams,
)
from dockyard.domain.targets import ExistingVersion, Target
from dockyard.domain.versions import MAX_INSTANCES, VersionSpec
from dockyard.services import images, placement, release_runner, rollouts, targets
from dockyard.services import where as locating
from dockyard.services.applications import found_group
from dockyard.services.platform import Platform
from dockyard.services.ports import UnitOfWork

ACTIONS = ("deploy", "rollback", "scale", "reconcile", "delete-group", "release", "autoscale")


def check_deadline(seconds: int, field: str = "deadline_seconds") -> None:
    if isinstance(seconds, bool) or not isinstance(seconds, int) or not 5 <= seconds <= 3600:
        raise InvalidInput(field, f"{field} must be an integer from 5 to 3600")


async def start_deploy(
    platform: Platform,
    by: Principal,
    *,
    group: GroupPath,
    target: Target,
    reason: str = "",
    deadline_seconds: int = DEFAULT_DEADLINE,
    action: str = "deploy",
    force: bool = False,
) -> Operation:
    """Record a pending deploy (or rollback) of ``target``: an existing version, or a new one made
    from a spec or changes (:func:`dockyard.services.targets.resolve`; a rollback only goes back to an
    existing version). :class:`NotFound` / :class:`Conflict` / :class:`InvalidInput`;
    :class:`DoesNotFit` when a deploy's instances would not all find a node, unless ``force``."""
    authorize(by, "deploy", group.system, group.app)
    check_deadline(deadline_seconds)
    if action not in ("deploy", "rollback"):
        raise InvalidInput("action", "action must be deploy or rollback")
    if action == "rollback":
        if not isinstance(target, ExistingVersion):
            raise InvalidInput("version", "a rollback goes back to an existing version: give its number")
        await _image_still_there(platform, group, target.number)
    async with recording(platform, group) as uow:
        found = await found_group(uow, group)
        resolved = await targets.resolve(uow, found, target, seal=platform.seal_value)
        planned = await placement.plan(platform, uow, found, resolved.number, resolved.spec, pin=True)
        if action == "deploy" and not force:
            placement.check_fits(platform, planned, resolved.number, resolved.spec)
        version = await targets.save(uow, found, resolved, by=by.name, reason=reason)
        clusters = await _check_location(uow, found, version)
        if resolved.new:
            await _check_offered(uow, resolved.spec, clusters)
        operation = pending(action, by, group, DeployParams(version, deadline_seconds))
        await uow.operations.add(operation)
    return operation


async def _image_still_there(platform: Platform, group: GroupPath, version: int) -> None:
    """A rollback to a version whose image (pinned by digest) is gone from the registry is refused."""
    async with platform.db.unit_of_work() as uow:
        target = await uow.versions.get(group, version)
    if target is not None:
        await images.check_present(platform, target.spec.image, what=f"version {version}")


async def start_scale(
    platform: Platform,
    by: Principal,
    *,
    group: GroupPath,
    instances: int,
    deadline_seconds: int = DEFAULT_DEADLINE,
    force: bool = False,
) -> Operation:
    """Record a new version (the running one with ``instances``) and a pending ``scale`` to it; during
    a gray or blue-green release, give the release the new total instead and return its operation.
    An autoscaled group's new version has that count as its policy's ``min`` (none at 0: turned off).
    Scaling out beyond what fits is :class:`DoesNotFit`, unless ``force``."""
    authorize(by, "deploy", group.system, group.app)
    check_deadline(deadline_seconds)
    if isinstance(instances, bool) or not isinstance(instances, int) or not 0 <= instances <= MAX_INSTANCES:
        raise InvalidInput("instances", f"instances must be an integer from 0 to {MAX_INSTANCES} (got {instances!r})")
    async with recording(platform, group) as uow:
        found = await found_group(uow, group)
        active = await uow.operations.active(group)
        if active is not None and active.action == "release":
            # A release under way takes the new total and keeps its split (services/release_runner.py).
            if not await uow.releases.set_total(active.id, instances, by=by.name):
                raise Conflict(
                    f"the release on group {group.group!r} cannot be scaled (a rolling one, one across clusters, or it "
                    "is ending)"
                )
            return active
        if found.current_version is None:
            raise Conflict(f"group {group.group!r} runs no version yet: deploy one first")
        running = await uow.versions.get(group, found.current_version)
        assert running is not None
        policy = running.spec.autoscale
        recorded = sum(p.instances for p in found.clusters)
        was = autoscale.effective_instances(running.spec.instances, policy, recorded or None)
        if was == instances and policy is None:
            raise Conflict(f"group {group.group!r} already runs {instances} instances")
        if policy is None:
            made = running.spec.with_changes(instances=instances)
        else:  # the count asked for becomes the policy's floor (domain/autoscale.manual)
            made = running.spec.with_changes(instances=instances, autoscale=autoscale.manual(policy, instances))
        if instances > was and not force:
            number = (found.latest_version or 0) + 1
            planned = await placement.plan(platform, uow, found, number, made, pin=False)
            placement.check_fits(platform, planned, number, made)
        reason = f"scale from {was} to {instances} instances"
        number = (await uow.versions.add(group, made, by=by.name, reason=reason)).number
        await _check_location(uow, found, number)
        operation = pending("scale", by, group, ScaleParams(number, deadline_seconds, instances=instances))
        await uow.operations.add(operation)
    return operation


async def start_reconcile(
    platform: Platform, by: Principal, *, group: GroupPath, deadline_seconds: int = DEFAULT_DEADLINE
) -> Operation:
    """Record a pending ``reconcile``: apply the running version again, whatever the cluster holds."""
    authorize(by, "deploy", group.system, group.app)
    check_deadline(deadline_seconds)
    async with recording(platform, group) as uow:
        found = await found_group(uow, group)
        if found.current_version is None:
            raise Conflict(f"group {group.group!r} runs no version yet: nothing to reconcile")
        await _check_location(uow, found, found.current_version)
        operation = pending("reconcile", by, group, DeployParams(found.current_version, deadline_seconds))
        await uow.operations.add(operation)
    return operation


async def start_delete_group(platform: Platform, by: Principal, *, group: GroupPath) -> Operation:
    """Record a pending ``delete-group``: its objects leave the cluster, then it leaves the database."""
    authorize(by, "manage", group.system, group.app)
    async with recording(platform, group) as uow:
        await found_group(uow, group)
        operation = pending("delete-group", by, group, DeleteGroupParams())
        await uow.operations.add(operation)
    return operation


async def _check_offered(uow: UnitOfWork, spec: VersionSpec, clusters: tuple[str, ...]) -> None:
    """A new version's flavor is offered in its clusters and pool (domain/flavors.check_offered)."""
    found = await uow.flavors.get(spec.flavor)
    if found is not None:
        check_offered(found, clusters=clusters, pool=spec.placement.pool if spec.placement else None)


async def _check_location(uow: UnitOfWork, group: Group, number: int) -> tuple[str, ...]:
    """The version's clusters exist and, in production, are granted (services/where.py); raises
    :class:`NotFound`, :class:`InvalidInput` or :class:`NotGranted` naming the field. Returns them."""
    version = await uow.versions.get(group.path, number)
    if version is None:
        raise NotFound(f"version {number} does not exist in group {group.name!r}")
    application = await uow.applications.get(group.path.app_path)
    if application is None:
        raise NotFound(f"application {group.app!r} does not exist in {group.system!r}")
    return (await locating.clusters_of(uow, group, application, version.spec)).clusters


def pending(action: str, by: Principal, group: GroupPath, params: OperationParams) -> Operation:
    """An operation on ``group`` recorded ``pending``, for the executor to run."""
    return Operation(
        id=str(uuid.uuid4()),
        action=action,
        actor=by.name,
        system=group.system,
        app=group.app,
        group=group.group,
        params=params,
    )


@asynccontextmanager
async def recording(platform: Platform, group: GroupPath) -> AsyncIterator[UnitOfWork]:
    """A unit of work whose database conflict (another unfinished operation on the group, or a version
    made meanwhile) reads as such."""
    try:
        async with platform.db.unit_of_work() as uow:
            yield uow
    except DatabaseConflict as e:
        raise Conflict(f"another operation on group {group} is in progress; try again later") from e
    platform.operations_added.set()


async def run_operation(platform: Platform, operation_id: str) -> Operation:
    """Drive an operation to its end (see the module docstring; releases: services/release_runner.py);
    returns the finished operation."""
    async with platform.db.unit_of_work() as uow:
        op = await uow.operations.get(operation_id)
    if op is not None and op.action == "release":
        return await release_runner.run(platform, operation_id)
    return await rollouts.run(platform, operation_id)
