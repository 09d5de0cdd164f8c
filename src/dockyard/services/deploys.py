"""Deploys: a persisted operation that brings a group's cluster to one of its versions.

:func:`start_deploy` records a ``pending`` operation and returns at once (the API answers 202 with its
id); at most one unfinished operation per group exists (a database index), so of two concurrent
deploys one gets :class:`Conflict`. :func:`run_operation` drives it: ``running``, server-side apply of
the namespace and the rendered objects, then wait until every instance of that version is ready or
the progress deadline passes, then ``succeeded`` (the group's current version moves) or ``failed``
with the cluster's reason. It may be called again for the same operation after a crash: a finished
operation is returned untouched, an unfinished one resumes (applying is idempotent, and the deadline
counts from the first start). Redeploying the version that already runs writes nothing to the cluster.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass

from dockyard.adapters.kube.client import KubeCluster
from dockyard.adapters.kube.errors import KubeApiError, KubeError, KubeNotFoundError, KubeUnavailableError
from dockyard.domain.errors import Conflict, InvalidInput, NotFound
from dockyard.domain.model import Operation, check_actor
from dockyard.domain.render import GroupRef, namespace, render
from dockyard.domain.rollout import Rollout, rollout
from dockyard.domain.versions import VersionSpec
from dockyard.services.platform import Platform

DEFAULT_DEADLINE = 300
_POLL = 1.0


@dataclass(frozen=True)
class _Plan:
    operation: Operation
    ref: GroupRef
    number: int
    spec: VersionSpec
    current: int | None
    deadline_at: float


async def start_deploy(
    platform: Platform,
    *,
    actor: str,
    system: str,
    app: str,
    group: str,
    version: int,
    deadline_seconds: int = DEFAULT_DEADLINE,
) -> Operation:
    """Record a pending deploy of ``version``; :class:`NotFound` / :class:`Conflict` / :class:`InvalidInput`."""
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InvalidInput("version", f"version must be a version number (1, 2, ...), got {version!r}")
    if isinstance(deadline_seconds, bool) or not isinstance(deadline_seconds, int) or not 5 <= deadline_seconds <= 3600:
        raise InvalidInput("deadline_seconds", "deadline_seconds must be an integer from 5 to 3600")
    check_actor(actor)
    operation = Operation(
        id=str(uuid.uuid4()),
        action="deploy",
        actor=actor,
        system=system,
        app=app,
        group=group,
        params={"version": version, "deadline_seconds": deadline_seconds},
    )
    try:
        async with platform.db.unit_of_work() as uow:
            if await uow.model.version(system, app, group, version) is None:
                raise NotFound(f"version {version} does not exist in group {group!r}")
            await uow.operations.add(operation)
    except Conflict as e:
        raise Conflict(f"another operation on group {system}/{app}/{group} is in progress") from e
    return operation


async def run_operation(platform: Platform, operation_id: str) -> Operation:
    """Drive a deploy to its end (see the module docstring); returns the finished operation."""
    try:
        plan = await _plan(platform, operation_id)
    except (NotFound, InvalidInput) as e:
        # Its target is gone or no longer valid: end it, or the group would stay busy forever.
        async with platform.db.unit_of_work() as uow:
            if await uow.operations.get(operation_id) is None:
                raise
            await uow.operations.finish(operation_id, "failed", error=str(e))
        plan = await _plan(platform, operation_id)
    if isinstance(plan, Operation):
        return plan
    error = await _deploy(platform, plan)
    async with platform.db.unit_of_work() as uow:
        ended = await uow.operations.finish(operation_id, "failed" if error else "succeeded", error=error)
        if ended and not error:
            await uow.model.set_current_version(plan.ref.system, plan.ref.app, plan.ref.group, plan.number)
        finished = await uow.operations.get(operation_id)
    assert finished is not None
    return finished


async def _plan(platform: Platform, operation_id: str) -> _Plan | Operation:
    async with platform.db.unit_of_work() as uow:
        op = await uow.operations.get(operation_id)
        if op is None:
            raise NotFound(f"operation {operation_id!r} does not exist")
        if op.status in ("succeeded", "failed"):
            return op
        await uow.operations.start(op.id)
        op = await uow.operations.get(op.id)
        assert op is not None
        assert op.started_at is not None
        number = int(op.params["version"])
        version = await uow.model.version(op.system, op.app, op.group, number)
        group = await uow.model.group(op.system, op.app, op.group)
        app = await uow.model.application(op.system, op.app)
        if version is None or group is None or app is None:
            raise NotFound(f"the target of operation {op.id} no longer exists")
    started = op.started_at.timestamp()
    ref = GroupRef(system=op.system, app=op.app, group=op.group, business_id=app.business_id)
    deadline_at = started + int(op.params.get("deadline_seconds", DEFAULT_DEADLINE))
    return _Plan(op, ref, number, version.spec, group.current_version, deadline_at)


async def _deploy(platform: Platform, plan: _Plan) -> str:
    """Apply and wait; returns "" on success, else why it failed. Cluster outages are retried until the deadline."""
    async with platform.db.unit_of_work() as uow:
        group = await uow.model.group(plan.ref.system, plan.ref.app, plan.ref.group)
        clusters = {c.name: c for c in await uow.clusters.all()}
    assert group is not None
    applied = False
    last: Rollout | None = None
    first = True
    while first or time.time() < plan.deadline_at:  # look at least once, even when resumed late
        first = False
        try:
            kube = await platform.clusters.client(clusters[group.cluster])
            if not applied:
                await _apply_unless_running(kube, plan)
                applied = True
            last = rollout(await _deployment(kube, plan.ref))
            if last.done and last.version == str(plan.number):
                return ""
        except KubeUnavailableError:
            pass  # the apiserver is away: wait and try again, within the deadline
        except KubeApiError as e:
            return f"the cluster refused the change: {e}"
        except KubeError as e:
            return f"cluster {group.cluster} cannot be used: {e}"
        await asyncio.sleep(_POLL)
    progress = f"{last.ready}/{last.wanted} instances ready" if last else "the cluster did not answer"
    kube_now = platform.clusters.get(group.cluster)
    why = await _why_not_ready(kube_now, plan) if last and kube_now else ""
    seconds = int(plan.operation.params.get("deadline_seconds", DEFAULT_DEADLINE))
    return f"progress deadline of {seconds}s passed with {progress}" + (f": {why}" if why else "")


async def _apply_unless_running(kube: KubeCluster, plan: _Plan) -> None:
    if plan.current == plan.number:
        live = rollout(await _deployment(kube, plan.ref))
        if live.version == str(plan.number):
            return  # already there: no write at all
    await kube.apply(namespace(plan.ref))
    objects = render(plan.ref, plan.number, plan.spec)
    for manifest in objects:
        await kube.apply(manifest)
    if not any(o["kind"] == "Service" for o in objects):
        # A version without ports has no Service: the one an older version had must go.
        await kube.delete("v1", "Service", plan.ref.workload, namespace=plan.ref.namespace)


async def _deployment(kube: KubeCluster, ref: GroupRef) -> dict[str, object] | None:
    try:
        return await kube.get("apps/v1", "Deployment", ref.workload, namespace=ref.namespace)
    except KubeNotFoundError:
        return None


async def _why_not_ready(kube: KubeCluster, plan: _Plan) -> str:
    try:
        pods = await kube.list("v1", "Pod", namespace=plan.ref.namespace, labels=plan.ref.selector())
    except KubeError:
        return ""
    for pod in pods:
        for condition in (pod.get("status") or {}).get("conditions") or []:
            if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
                return str(condition.get("message") or condition.get("reason") or "Unschedulable")
        for status in (pod.get("status") or {}).get("containerStatuses") or []:
            waiting = (status.get("state") or {}).get("waiting") or {}
            if waiting.get("reason"):
                return str(waiting["reason"])
    return ""
