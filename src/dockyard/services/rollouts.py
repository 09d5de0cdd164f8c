"""The runner of group operations: bring a group's clusters to a version, or remove the group.

A group runs on one or several clusters (services/where.py says which; services/split.py how many
instances each). A deploy, rollback, scale or reconcile goes to every cluster of the group at once,
each as a rollout of its own (the steps below). A cluster that does not answer when the operation
starts is skipped: it keeps its instances and version, the operation ends ``succeeded`` on the others
with ``params.away`` naming it, and the group shows degraded there until a later ``reconcile`` (or
deploy) reaches it. A cluster the new location no longer includes has the group's objects removed.
``delete-group`` removes the objects from every cluster that answers; if one does not, the group
stays with that cluster only and the operation fails saying so (delete again once it is back).

Contract of :func:`run`: a finished operation is returned untouched; an unfinished one is marked
running (its start time kept when resumed) and driven to its end, which is recorded by a conditional
update, so two runners of the same operation can never both record a result. An operation whose group,
application or version is gone ends ``failed`` instead of blocking its group forever. Cluster outages
(connection refused, 429, 5xx) are retried until the operation's deadline.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from dockyard.domain.autoscale import effective_instances
from dockyard.domain.drift import workload_drift
from dockyard.domain.errors import InvalidInput, NotFound, Unavailable
from dockyard.domain.failures import (
    ClusterConflict,
    ClusterFailure,
    ClusterNotFound,
    ClusterRefused,
    ClusterUnavailable,
    SealFailure,
)
from dockyard.domain.flavors import BUILTIN, Size, ceiling
from dockyard.domain.model import Application, AppPath, Group, Operation, Quota
from dockyard.domain.operations import DeployParams, OperationParams, ReleaseParams, ScaleParams, deadline_seconds
from dockyard.domain.placement import priority_classes
from dockyard.domain.render import SYSTEM_LIMITS, GroupRef, baseline_groups, namespace, render, system_objects
from dockyard.domain.rollout import Rollout, rollout, why_not_ready
from dockyard.domain.versions import BASELINE, VersionSpec
from dockyard.services import placement
from dockyard.services import split as splitting
from dockyard.services import where as locating
from dockyard.services.capacity import SYNC_WAIT, CachedSpareCapacity
from dockyard.services.platform import Platform
from dockyard.services.ports import ClusterClient, SecretBox, UnitOfWork

_POLL = 0.5
_CACHE_LAG = 1.0  # seconds a connected watch cache is given to see a write before the apiserver is asked
_REPLACE_TRIES = 5


@dataclass(frozen=True)
class Plan:
    """An operation ready to run: its group on one cluster (``ref``, ``cluster``), the system's quota,
    the version to bring (``number``, ``spec``; 0 and None for ``delete-group``), the version running
    now (``current``) and the deadline (epoch seconds)."""

    operation: Operation
    ref: GroupRef
    cluster: str
    quota: Quota
    number: int  # 0 for delete-group
    spec: VersionSpec | None
    current: int | None
    deadline_at: float
    group: Group | None = None
    application: Application | None = None
    largest: Size | None = None  # the flavor catalog's most CPU and memory: the namespace's LimitRange cap

    @property
    def force(self) -> bool:
        return self.operation.action == "reconcile"


async def run(platform: Platform, operation_id: str) -> Operation:
    try:
        plan = await plan_operation(platform, operation_id)
    except (NotFound, InvalidInput) as e:
        async with platform.db.unit_of_work() as uow:
            if await uow.operations.get(operation_id) is None:
                raise
            await uow.operations.finish(operation_id, "failed", error=str(e))
        plan = await plan_operation(platform, operation_id)
    if isinstance(plan, Operation):
        return plan
    if plan.operation.action == "delete-group":
        return await _delete_everywhere(platform, plan)
    try:
        counts, away = await _spread(platform, plan)
    except (NotFound, InvalidInput) as e:
        return await _finish(platform, plan, str(e), {}, {})
    except (ClusterFailure, Unavailable) as e:
        return await _finish(platform, plan, f"the clusters' spare capacity cannot be read: {e}", {}, {})
    many = len(counts) > 1
    errors = await asyncio.gather(
        *(_deploy_to(platform, plan, name, n, many=many) for name, n in counts.items() if name not in away)
    )
    error = "; ".join(e for e in errors if e)
    gone = [p.cluster for p in (plan.group.clusters if plan.group else ()) if p.cluster not in counts]
    if not error:
        error = await _remove_from(platform, plan, gone)
    return await _finish(platform, plan, error, {n: c for n, c in counts.items() if n not in away}, away)


async def _spread(platform: Platform, plan: Plan) -> tuple[dict[str, int], dict[str, str]]:
    """The split of the operation (computed once, kept in its params for a resumed run) and the
    clusters away at its start."""
    assert plan.spec is not None
    assert plan.group is not None
    assert plan.application is not None
    async with platform.db.unit_of_work() as uow:
        where = await locating.clusters_of(uow, plan.group, plan.application, plan.spec)
    up, away = await splitting.reachable(lambda n: cluster_client(platform, n), where.clusters)
    params = plan.operation.params
    if isinstance(params, DeployParams) and params.split is not None and set(params.split) == set(where.clusters):
        return dict(params.split), dict(params.away)
    recorded = {p.cluster: p.instances for p in plan.group.clusters}
    if plan.force and set(recorded) == set(where.clusters) and sum(recorded.values()) == plan.spec.instances:
        return recorded, away  # reconcile: the split as recorded, applied again
    async with platform.db.unit_of_work() as uow:
        refs = {n: await _ref_on(uow, plan, n) for n in where.clusters}
    capacity = CachedSpareCapacity(platform, refs, plan.number, wait=SYNC_WAIT)
    counts = await splitting.split(
        where=where, spec=plan.spec, up=up, away=away, parts=plan.group.clusters, capacity=capacity
    )
    if isinstance(params, DeployParams):
        async with platform.db.unit_of_work() as uow:
            await uow.operations.set_params(plan.operation.id, replace(params, split=counts, away=away))
    return counts, away


async def _deploy_to(platform: Platform, plan: Plan, cluster: str, instances: int, *, many: bool) -> str:
    """One cluster's rollout; its error names the cluster when the group has several."""
    assert plan.spec is not None
    spec = plan.spec if plan.spec.instances == instances else plan.spec.with_changes(instances=instances)
    error = await deploy_and_wait(platform, await on_cluster(platform, plan, cluster, spec))
    return f"{cluster}: {error}" if error and many else error


async def on_cluster(platform: Platform, plan: Plan, cluster: str, spec: VersionSpec | None = None) -> Plan:
    """``plan`` on ``cluster`` (rendered for it: its dedicated pool, if any), with ``spec`` if given."""
    async with platform.db.unit_of_work() as uow:
        ref = await _ref_on(uow, plan, cluster)
    return replace(plan, cluster=cluster, ref=ref, spec=spec if spec is not None else plan.spec)


async def _ref_on(uow: UnitOfWork, plan: Plan, cluster: str) -> GroupRef:
    if cluster == plan.cluster:
        return plan.ref
    return await placement.group_ref(uow, plan.ref.path, cluster)


async def _remove_from(platform: Platform, plan: Plan, clusters: list[str]) -> str:
    """The group's objects off the clusters its location no longer includes."""
    errors = [await _delete(platform, await on_cluster(platform, plan, name)) for name in clusters]
    return "; ".join(f"{n}: {e}" for n, e in zip(clusters, errors, strict=True) if e)


async def _finish(
    platform: Platform, plan: Plan, error: str, counts: dict[str, int], away: dict[str, str]
) -> Operation:
    ref = plan.ref
    async with platform.db.unit_of_work() as uow:
        ended = await uow.operations.finish(plan.operation.id, "failed" if error else "succeeded", error=error)
        if ended and not error:
            await uow.groups.set_current_version(ref.path, plan.number)
            for name, instances in counts.items():
                await uow.groups.set_cluster(ref.path, name, instances=instances, version=plan.number)
            for part in plan.group.clusters if plan.group else ():
                if part.cluster not in counts and part.cluster not in away:
                    await uow.groups.remove_cluster(ref.path, part.cluster)
        finished = await uow.operations.get(plan.operation.id)
    assert finished is not None
    return finished


async def plan_operation(platform: Platform, operation_id: str) -> Plan | Operation:
    """The operation marked running (its start kept when resumed) and planned on its group's home
    cluster; a finished operation is returned as it is. :class:`NotFound` when the operation, or its
    group, application, system or version, is gone."""
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
        group = await uow.groups.get(op.path)
        app = await uow.applications.get(AppPath(op.system, op.app))
        system = await uow.systems.get(op.system)
        number = op.params.version if isinstance(op.params, DeployParams | ReleaseParams) else 0
        version = await uow.versions.get(op.path, number) if number and group else None
        if group is None or app is None or system is None or (number and version is None):
            raise NotFound(f"the target of operation {op.id} no longer exists")
        ref = await placement.group_ref(uow, op.path, group.cluster)
        sizes = [f.size for f in await uow.flavors.all()]
    deadline_at = op.started_at.timestamp() + deadline_seconds(op.params)
    spec = sized(version.spec, op.params, group) if version else None
    largest = ceiling([*sizes, *(f.size for f in BUILTIN), *([spec.flavor_spec.size] if spec else [])])
    return Plan(
        op, ref, group.cluster, system.quota, number, spec, group.current_version, deadline_at, group, app, largest
    )


def sized(spec: VersionSpec, params: OperationParams, group: Group) -> VersionSpec:
    """``spec`` at the count the operation brings: a scale's (manual or the autoscaler's) as asked; a
    version with an autoscale policy keeps the group's recorded count within the policy's bounds
    (domain/autoscale.py: the count is state, not a version); else the spec's own."""
    if isinstance(params, ScaleParams):
        count = params.instances
    else:
        recorded = sum(p.instances for p in group.clusters)
        count = effective_instances(spec.instances, spec.autoscale, recorded or None)
    return spec if count == spec.instances else replace(spec, instances=count)


async def deploy_and_wait(platform: Platform, plan: Plan) -> str:
    """Apply ``plan`` on its cluster and wait until its rollout is done, within ``plan.deadline_at``
    (apiserver outages retried meanwhile; resumed past the deadline it only looks); returns "" on
    success, else why it failed."""
    applied = False
    generation = 0
    last: Rollout | None = None
    kube: ClusterClient | None = None  # looked up once, again only after the apiserver was away
    first = True
    while first or time.time() < plan.deadline_at:  # look at least once, even when resumed late
        first = False
        try:
            kube = kube or await cluster_client(platform, plan.cluster)
            if not applied and time.time() < plan.deadline_at:
                # Resumed past its deadline, it only looks: it must not roll the cluster to a
                # version it is about to record as failed.
                service = platform.live.service_exists(plan.cluster, plan.ref.namespace, plan.ref.workload)
                generation = await apply_version(kube, plan, platform.box, service=service)
                applied = True
            last = await _observe(platform, kube, plan, generation)
            if last.done and last.version == str(plan.number):
                if not _needs_baseline(plan.spec) and (plan.force or not _remembered_without(kube, plan.ref)):
                    # Only now is no pod of an older, baseline version left to be made again.
                    await _write_namespace(kube, plan.ref, lambda groups: groups - {plan.ref.workload})
                return ""
        except SealFailure:
            return (
                "the version's secret env values cannot be opened: they were sealed with a key that is not configured"
            )
        except ClusterUnavailable:
            kube = None  # the apiserver is away: wait and try again, within the deadline
        except ClusterRefused as e:
            return f"the cluster refused the change: {e}"
        except ClusterFailure as e:
            return f"cluster {plan.cluster} cannot be used: {e}"
        await asyncio.sleep(_POLL)
    seconds = deadline_seconds(plan.operation.params)
    if last is None:
        return f"progress deadline of {seconds}s passed: cluster {plan.cluster} did not answer"
    kube_now = platform.clusters.get(plan.cluster)
    why = await _why_not_ready(kube_now, plan) if kube_now else ""
    progress = f"{last.ready}/{last.wanted} instances ready"
    return f"progress deadline of {seconds}s passed with {progress}" + (f": {why}" if why else "")


async def cluster_client(platform: Platform, name: str) -> ClusterClient:
    """The client of registered cluster ``name``; :class:`ClusterFailure` saying what is wrong (never a
    credential) when it is not registered or its kubeconfig cannot be loaded."""
    async with platform.db.unit_of_work() as uow:
        clusters = {c.name: c for c in await uow.clusters.all()}
    if name not in clusters:
        raise ClusterFailure(f"cluster {name!r} is no longer registered")
    try:
        return await platform.clusters.client(clusters[name])
    except ClusterFailure as e:
        # Operations' errors are read by every system member: say what, not how (never a credential).
        raise ClusterFailure(platform.clusters.problem(name) or "its kubeconfig cannot be loaded") from e


async def _observe(platform: Platform, kube: ClusterClient, plan: Plan, generation: int) -> Rollout:
    """The rollout as the Deployment watch cache has it, once the cache has seen our write (its
    ``generation``; a connected cache is given :data:`_CACHE_LAG` seconds to see it, since a write
    reaches it a few milliseconds later); else, or while the watch is down, as the apiserver answers."""
    until = time.monotonic() + _CACHE_LAG
    while platform.live.connection(plan.cluster).connected:
        record = platform.live.deployment(plan.cluster, plan.ref.namespace, plan.ref.workload)
        if record is not None and record.generation >= generation:
            return rollout(
                {
                    "metadata": {"generation": record.generation},
                    "spec": record.spec,
                    "status": {
                        "observedGeneration": record.observed_generation,
                        "replicas": record.total,
                        "updatedReplicas": record.updated,
                        "readyReplicas": record.ready,
                        "availableReplicas": record.available,
                    },
                }
            )
        if time.monotonic() >= until:
            break
        await asyncio.sleep(_CACHE_LAG / 20)
    return rollout(await _deployment(kube, plan.ref))


async def apply_version(kube: ClusterClient, plan: Plan, box: SecretBox, *, service: bool | None = None) -> int:
    """Apply the namespace (loosened first if the version needs ``baseline``), the system's objects,
    then the version's (ServiceAccount, ConfigMap and Secret before the Deployment, whose pods name
    and use them); returns the Deployment's generation after it (0 when nothing was written because
    the version already runs). Secret env values are opened only here, to render the version's
    Secret, and dropped with the rendered objects.

    Writes that would change nothing are left out, but never by a reconcile, which writes
    everything: the namespace, the system's objects, the application's ServiceAccount and the group's
    PodDisruptionBudget when the
    client wrote the same content in the last :data:`~dockyard.adapters.kube.client.REMEMBER`
    seconds (one deploy per system and process writes them, the others find them remembered);
    the Service of a version without ports is deleted only when ``service`` (whether the Service
    cache has it) is not ``False``. A 404 on the way (the namespace deleted meanwhile: the client
    then forgets what it wrote there) starts the whole apply once more, writing everything.
    """
    try:
        return await _apply_once(kube, plan, box, service=service, trust=not plan.force)
    except ClusterNotFound:
        return await _apply_once(kube, plan, box, service=None, trust=False)


async def _apply_once(kube: ClusterClient, plan: Plan, box: SecretBox, *, service: bool | None, trust: bool) -> int:
    assert plan.spec is not None
    # An autoscale operation brings the running version at another count: it always writes.
    if plan.current == plan.number and not plan.force and plan.operation.action != "autoscale":
        live = rollout(await _deployment(kube, plan.ref))
        if live.version == str(plan.number):
            return 0  # already there: no write at all
    objects = render(plan.ref, plan.number, plan.spec, {name: box.open(v.token) for name, v in plan.spec.secret_env})
    shared = [o for o in objects if o["kind"] == "ServiceAccount"]  # the application's, for all its groups
    async with kube.serialized(plan.ref.namespace):  # the system's deploys in this process take turns here
        await _write_system(kube, plan, trust=trust)
        if plan.spec.placement and plan.spec.placement.priority:
            shared += priority_classes()  # cluster-wide, the same for every system
        for manifest in shared:
            await (kube.ensure(manifest) if trust else kube.apply(manifest, remember=True))
    generation = 0
    for manifest in objects:
        if manifest["kind"] == "ServiceAccount":
            continue
        if manifest["kind"] == "PodDisruptionBudget":  # the same for every version of the group
            await (kube.ensure(manifest) if trust else kube.apply(manifest, remember=True))
            continue
        applied = await kube.apply(manifest)
        if manifest["kind"] == "Deployment":
            generation = int(applied.get("metadata", {}).get("generation") or 0)
    if plan.force:
        generation = (
            await _replace_if_drifted(kube, plan, next(o for o in objects if o["kind"] == "Deployment")) or generation
        )
    if not any(o["kind"] == "Service" for o in objects) and (service is not False or not trust):
        # A version without ports has no Service: the one an older version had must go.
        await kube.delete("v1", "Service", plan.ref.workload, namespace=plan.ref.namespace)
    return generation


async def _write_system(kube: ClusterClient, plan: Plan, *, trust: bool) -> None:
    """The namespace and the system's objects; with ``trust``, only what the client does not
    remember having written (see :func:`apply_version`)."""
    ref = plan.ref
    if _needs_baseline(plan.spec):
        await _write_namespace(kube, ref, lambda groups: groups | {ref.workload}, deploying=True)
    elif not (trust and _remembered_without(kube, ref)):
        await _write_namespace(kube, ref, lambda groups: groups, deploying=True)
    system = system_objects(ref, plan.quota, plan.largest)
    for manifest in system:
        await (kube.ensure(manifest) if trust else kube.apply(manifest, remember=True))
    if not any(o["kind"] == "ResourceQuota" for o in system):
        if trust:
            await kube.ensure_absent("v1", "ResourceQuota", SYSTEM_LIMITS, namespace=ref.namespace)
        else:
            await kube.delete("v1", "ResourceQuota", SYSTEM_LIMITS, namespace=ref.namespace)


def _remembered_without(kube: ClusterClient, ref: GroupRef) -> bool:
    """Whether the client wrote the system's namespace lately, recording that the group does not
    need ``baseline`` (so, for a group that does not, there is nothing to write)."""
    known = kube.remembered("v1", "Namespace", ref.namespace)
    return known is not None and ref.workload not in baseline_groups(known)


def _needs_baseline(spec: VersionSpec | None) -> bool:
    return spec is not None and spec.security == BASELINE


async def _write_namespace(
    kube: ClusterClient, ref: GroupRef, change: Callable[[frozenset[str]], frozenset[str]], *, deploying: bool = False
) -> None:
    """Apply the system's namespace with the groups that need ``baseline`` as ``change`` makes them
    from those the namespace records, so its Pod Security level is the loosest any group there needs.

    Deploying, a missing namespace is made (restricted) and the namespace is always applied; else
    (tightening) a missing one or one Dockyard did not make is left alone, and nothing is written when
    the record does not change. Each write is conditional on the resourceVersion read, so concurrent
    operations on other groups of the system never lose each other's entries.
    """
    for _ in range(_REPLACE_TRIES):
        try:
            found = await kube.get("v1", "Namespace", ref.namespace)
        except ClusterNotFound:
            if not deploying:
                return
            await kube.create(namespace(ref))  # False: someone made it meanwhile; read it again
            continue
        labels = found.get("metadata", {}).get("labels") or {}
        if labels.get("dockyard.io/system") != ref.system:
            if not deploying:
                return
            # A system may only use a namespace Dockyard made: never take over one someone else runs.
            raise ClusterRefused(
                f"namespace {ref.namespace!r} exists and is not managed by Dockyard for system {ref.system!r}",
                status=409,
                reason="Conflict",
            )
        recorded = baseline_groups(found)
        wanted = change(recorded)
        if wanted == recorded and not deploying:
            return
        manifest = namespace(ref, wanted)
        manifest["metadata"]["resourceVersion"] = found["metadata"]["resourceVersion"]
        try:
            await kube.apply(manifest, remember=True)
            return
        except ClusterConflict:
            continue  # another operation wrote it meanwhile: read again
    raise ClusterRefused(f"namespace {ref.namespace} kept changing while being written", status=409, reason="Conflict")


async def _replace_if_drifted(kube: ClusterClient, plan: Plan, rendered: dict[str, Any]) -> int:
    """Apply takes back the fields Dockyard sets; fields another manager added (an env var set by
    hand) survive it. If any drift is left, replace the Deployment's spec whole."""
    assert plan.spec is not None
    for _ in range(_REPLACE_TRIES):
        live = await _deployment(kube, plan.ref)
        if live is None or not workload_drift(plan.ref, plan.number, plan.spec, live["spec"]):
            return 0
        version = live["metadata"]["resourceVersion"]
        try:
            replaced = await kube.replace(
                {**rendered, "metadata": {**rendered["metadata"], "resourceVersion": version}}
            )
            return int(replaced.get("metadata", {}).get("generation") or 0)
        except ClusterConflict:
            continue  # the controller wrote its status meanwhile: read again
    raise ClusterRefused(
        f"Deployment {plan.ref.workload} kept changing while being reconciled", status=409, reason="Conflict"
    )


async def _deployment(kube: ClusterClient, ref: GroupRef) -> dict[str, Any] | None:
    try:
        return await kube.get("apps/v1", "Deployment", ref.workload, namespace=ref.namespace)
    except ClusterNotFound:
        return None


async def _why_not_ready(kube: ClusterClient, plan: Plan) -> str:
    try:
        deployment = await _deployment(kube, plan.ref)
        pods = await kube.list("v1", "Pod", namespace=plan.ref.namespace, labels=plan.ref.selector())
    except ClusterFailure:
        return ""
    return why_not_ready(deployment, pods)


async def _delete(platform: Platform, plan: Plan) -> str:
    """Remove the group's objects from its cluster; "" when gone, else why not (retried until the deadline)."""
    first = True
    why = "the cluster did not answer"
    while first or time.time() < plan.deadline_at:
        first = False
        try:
            kube = await cluster_client(platform, plan.cluster)
            await kube.delete("apps/v1", "Deployment", plan.ref.workload, namespace=plan.ref.namespace)
            await kube.delete("v1", "Service", plan.ref.workload, namespace=plan.ref.namespace)
            await kube.delete("policy/v1", "PodDisruptionBudget", plan.ref.workload, namespace=plan.ref.namespace)
            for kind in ("ConfigMap", "Secret"):
                for found in await kube.list("v1", kind, namespace=plan.ref.namespace, labels=plan.ref.selector()):
                    await kube.delete("v1", kind, found["metadata"]["name"], namespace=plan.ref.namespace)
            # The application's ServiceAccount stays: its other groups may use it.
            await _write_namespace(kube, plan.ref, lambda groups: groups - {plan.ref.workload})
            return ""
        except ClusterUnavailable as e:
            why = str(e)
        except ClusterFailure as e:
            return f"cluster {plan.cluster} refused: {e}"
        await asyncio.sleep(_POLL)
    return f"the group's objects could not be removed: {why}"


async def _delete_everywhere(platform: Platform, plan: Plan) -> Operation:
    """Every cluster of the group that answers loses its objects; see the module docstring."""
    assert plan.group is not None
    names = [p.cluster for p in plan.group.clusters] or [plan.cluster]
    up, away = await splitting.reachable(lambda n: cluster_client(platform, n), tuple(names))
    errors = await asyncio.gather(*[_delete(platform, await on_cluster(platform, plan, name)) for name in up])
    failed = {n: e for n, e in zip(up, errors, strict=True) if e}
    left = {**away, **failed}
    error = "; ".join(f"{n}: {why}" for n, why in left.items())
    if away:
        error = f"the group's objects are left on {', '.join(away)} (away): delete it again once back; {error}"
    async with platform.db.unit_of_work() as uow:
        ended = await uow.operations.finish(plan.operation.id, "failed" if error else "succeeded", error=error)
        if ended and not error:
            await uow.groups.delete(plan.ref.path)
        elif ended:
            for name in up:
                if name not in failed:
                    await uow.groups.remove_cluster(plan.ref.path, name)
        finished = await uow.operations.get(plan.operation.id)
    assert finished is not None
    return finished
