"""The runner of releases: drives a ``release`` operation step by step, as its state in the database says.

Contract of :func:`run`: the release's state (step, status, ledger) is in the database and written
after each step, so a runner resumed after a crash (kill -9) continues at the same step; applying a
step is idempotent (server-side apply of the same replicas), so nothing is created twice and the split
is not reset. Commands (promote, promote --full, pause, resume, abort) are read from the database at
every turn. Each instance step: the canary workload is scaled up to the step's count and must be Ready
within the step deadline with fewer restarts than the limit, then the stable workload is scaled down
(so the group never runs fewer Ready instances than its count). A failed check or ``abort`` brings the
stable version back to the full count, removes the canary and ends the release ``aborted`` (its
operation ``failed`` with the reason); after ``100%`` the group's own workload is moved to the new
version (a rolling update), the canary removed, and the release ends ``succeeded``. While the
apiserver is away the release is ``waiting`` and retried with capped backoff.

What to do at each turn is decided by :func:`dockyard.domain.release_steps.next_action` (pure, table
tested); this module loads the release, acts on the answer and records what happened.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from dataclasses import replace
from typing import Any

from dockyard.domain import apm
from dockyard.domain.errors import InvalidInput, NotFound
from dockyard.domain.failures import ClusterFailure, ClusterNotFound, ClusterUnavailable, MetricsFailure
from dockyard.domain.model import GroupPath, Operation
from dockyard.domain.operations import ReleaseParams
from dockyard.domain.placement import priority_classes
from dockyard.domain.release import Release
from dockyard.domain.release_steps import (
    CLUSTER_SCALED,
    POLL,
    Abort,
    Action,
    Advance,
    Analyze,
    Ended,
    Nap,
    Observed,
    PromoteFull,
    Rescale,
    Retire,
    ScaleCluster,
    ScaleStep,
    SetWeight,
    StartPause,
    Switch,
    WaitForCluster,
    backoff,
    canary_check,
    clusters_to_scale,
    current_part,
    mode,
    next_action,
)
from dockyard.domain.render import GroupRef, canary, canary_name, deployment, pinned_service, render
from dockyard.domain.rollout import ready_instances
from dockyard.domain.versions import VersionSpec
from dockyard.services import apm as apm_service
from dockyard.services import rollouts
from dockyard.services.platform import Platform
from dockyard.services.ports import ClusterClient
from dockyard.services.workers import woken

READY_POLL = 0.1  # how often a step looks at its new instances


class _Failed(Exception):
    """A check failed: the release aborts with this reason."""


async def run(platform: Platform, operation_id: str) -> Operation:
    try:
        plan = await rollouts.plan_operation(platform, operation_id)
    except (NotFound, InvalidInput) as e:
        return await _end(platform, operation_id, "failed", str(e))
    if isinstance(plan, Operation):
        return plan
    async with platform.db.unit_of_work() as uow:
        release = await uow.releases.get(operation_id)
        stable = (
            await uow.versions.get(plan.ref.path, release.stable_version)
            if release and release.stable_version
            else None
        )
    if release is None:
        return await _end(platform, operation_id, "failed", "the release's state is gone")
    if release.clusters:
        return await _by_cluster(platform, plan, release, stable.spec if stable else None)
    how = mode(release, has_stable=stable is not None)
    if how == "rolling" or stable is None:
        error = await rollouts.deploy_and_wait(platform, replace(plan, deadline_at=time.time() + _deadline(plan)))
        await _record(platform, release.id, status="failed" if error else "succeeded", entry=_entry("rollout", error))
        return await _end(platform, operation_id, "failed" if error else "succeeded", error, plan.number)
    runner = (_BlueGreen if how == "blue-green" else _Steps)(platform, plan, stable.spec)
    outcome, error = await runner.drive()
    return await _end(platform, operation_id, outcome, error, runner.final_version if outcome == "succeeded" else None)


async def _by_cluster(
    platform: Platform, plan: rollouts.Plan, release: Release, stable: VersionSpec | None
) -> Operation:
    """A group on several clusters: each cluster of ``release.clusters`` in turn, with its own count,
    through all the steps (a rolling release: one rollout per cluster); the first failure ends it.
    Scaled meanwhile (the autoscaler, services/autoscale.py): the cluster under way follows its new
    ``total`` as on one cluster, and its runner brings the other clusters to their new counts between
    its turns (:meth:`_Steps._scale_others`); the next cluster begins at the count it has by then."""
    assert plan.spec is not None
    op_id = plan.operation.id
    while True:
        async with platform.db.unit_of_work() as uow:
            found = await uow.releases.get(release.id)
        assert found is not None
        release = found
        part = current_part(release)
        name, count = part.cluster, part.instances
        how = mode(release, has_stable=stable is not None)
        spec = plan.spec if plan.spec.instances == count else plan.spec.with_changes(instances=count)
        here = replace(await rollouts.on_cluster(platform, plan, name, spec), deadline_at=time.time() + _deadline(plan))
        if how == "rolling" or stable is None:
            error = await rollouts.deploy_and_wait(platform, here)
            if error:
                await _record(platform, release.id, status="failed", entry=_entry("rollout", error, cluster=name))
                return await _end(platform, op_id, "failed", f"{name}: {error}")
            await _cluster_done(platform, release, name, count, plan.number)
            version = plan.number
        else:
            kind = _BlueGreen if how == "blue-green" else _Steps
            keep = stable if stable.instances == count else stable.with_changes(instances=count)
            runner = kind(platform, here, keep, part=name)
            outcome, error = await runner.drive()
            if outcome != "succeeded":
                return await _end(platform, op_id, outcome, f"{name}: {error}")
            version = runner.final_version
        if part.last:
            return await _end(platform, op_id, "succeeded", "", version)


async def _cluster_done(platform: Platform, release: Release, cluster: str, count: int, version: int) -> None:
    """One cluster of a release is on the new version at ``count``: record it there, then start the
    next one, at the count the release gives it now (a scale meanwhile changed it), or end the release."""
    async with platform.db.unit_of_work() as uow:
        await uow.groups.set_cluster(
            GroupPath(release.system, release.app, release.group), cluster, instances=count, version=version
        )
        found = await uow.releases.get(release.id)
        assert found is not None
        if current_part(found).last:
            await uow.releases.record(release.id, status="succeeded", entry=_entry("succeeded", cluster=cluster))
        else:
            await uow.releases.record(
                release.id,
                status="progressing",
                step=0,
                pause_until=None,
                cluster_index=found.cluster_index + 1,  # its total: that cluster's count, read under the lock
                entry=_entry("cluster-done", cluster=cluster),
            )


def _params(plan: rollouts.Plan) -> ReleaseParams:
    params = plan.operation.params
    if not isinstance(params, ReleaseParams):
        raise TypeError(f"operation {plan.operation.id} is a {plan.operation.action}, not a release")
    return params


def _deadline(plan: rollouts.Plan) -> int:
    return _params(plan).step_deadline_seconds


def _entry(event: str, error: str = "", **fields: Any) -> dict[str, Any]:
    entry = {"at": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"), "event": event, **fields}
    if error:
        entry["error"] = error
    return entry


async def _record(platform: Platform, release_id: str, **changes: Any) -> None:
    async with platform.db.unit_of_work() as uow:
        await uow.releases.record(release_id, **changes)


async def _end(platform: Platform, operation_id: str, status: str, error: str, version: int | None = None) -> Operation:
    async with platform.db.unit_of_work() as uow:
        ended = await uow.operations.finish(
            operation_id, "succeeded" if status == "succeeded" else "failed", error=error
        )
        op = await uow.operations.get(operation_id)
        if ended and version is not None and op is not None:
            await uow.groups.set_current_version(op.path, version)
    assert op is not None
    return op


class _Steps:
    """The acts of a stepped (gray or blue-green) release; what to do at each turn is :func:`next_action`'s."""

    def __init__(
        self,
        platform: Platform,
        plan: rollouts.Plan,
        stable: VersionSpec,
        *,
        part: str | None = None,
    ) -> None:
        self.part = part  # the cluster under way, when the release goes cluster by cluster
        # The release's cluster counts the other clusters were last brought to (None: not yet looked).
        self.others_at: tuple[dict[str, Any], ...] | None = None
        self.platform = platform
        self.plan = plan
        self.stable = stable
        assert plan.spec is not None
        self.new = plan.spec
        self.kube: ClusterClient | None = None
        self.final_version = plan.number  # another one if the release was scaled meanwhile

    @property
    def ref(self) -> GroupRef:
        return self.plan.ref

    async def _load(self) -> Release:
        async with self.platform.db.unit_of_work() as uow:
            found = await uow.releases.get(self.plan.operation.id)
        assert found is not None
        return found

    async def _take(self, action: Action) -> bool:
        """Take the command ``action`` consumes; an abort is recorded ``aborting`` in the same write,
        so the release never reads as running between the two (its edge share would bounce back)."""
        assert action.take is not None
        async with self.platform.db.unit_of_work() as uow:
            taken = await uow.releases.take_command(self.plan.operation.id, action.take)
            if taken and isinstance(action, Abort):
                await uow.releases.record(
                    self.plan.operation.id,
                    status="aborting",
                    error=action.reason,
                    entry=_entry("aborting", action.reason),
                )
            return taken

    async def drive(self) -> tuple[str, str]:
        """Run to the end; ``("succeeded", "")`` or ``("aborted", why)``. Each turn: load the release,
        decide (:func:`next_action`), take the action's command (none left: decide again), act."""
        observed = Observed()
        policy = apm.parse_policy(_params(self.plan).analysis)
        while True:
            release = await self._load()
            if self.part is not None and await self._scale_others(release):
                continue  # the other clusters first, then the release as it is by then
            action = next_action(release, observed, dt.datetime.now(dt.UTC), policy=policy)
            if action.take is not None and not await self._take(action):
                continue  # the command went meanwhile (another runner, or a new one): decide again
            try:
                ended = await self._act(release, action)
            except _Failed as e:
                return await self._abort(str(e))
            except ClusterUnavailable:
                self.kube = None
                observed = Observed(away=True, tries=observed.tries + 1)
                continue
            except ClusterFailure as e:
                return await self._abort(f"cluster {self.plan.cluster} refused: {e}")
            if ended is not None:
                return ended
            observed = Observed(tries=observed.tries) if isinstance(action, WaitForCluster) else Observed()

    async def _scale_others(self, release: Release) -> bool:
        """A release across clusters scaled meanwhile: bring its other clusters to the counts it gives them
        (:func:`clusters_to_scale`: the released ones on the new version, those not begun on the stable
        one), each a rollout of the version it runs there, all at once within the step deadline; each
        recorded (the group's count there when done, and a ``cluster-scaled`` ledger entry, with the
        error when it failed: a failed one is not tried again at that count). False if none was to.
        Only this runner records the group's counts during the release: once they were brought to the
        release's counts, the group is read again only when those change."""
        if release.clusters == self.others_at:
            return False
        path = self.ref.path
        async with self.platform.db.unit_of_work() as uow:
            group = await uow.groups.get(path)
            todo = clusters_to_scale(release, group.clusters if group is not None else ())
            versions = {s.version: await uow.versions.get(path, s.version) for s in todo}
        if not todo:
            self.others_at = release.clusters
            return False

        async def scale(target: ScaleCluster) -> str:
            version = versions[target.version]
            if version is None:
                return f"version {target.version} no longer exists"
            # The count is the group's state, as an autoscale operation brings it: no new version.
            spec = replace(version.spec, instances=target.instances)
            here = await rollouts.on_cluster(
                self.platform, replace(self.plan, number=target.version, current=None), target.cluster, spec
            )
            return await rollouts.deploy_and_wait(
                self.platform, replace(here, deadline_at=time.time() + _deadline(self.plan))
            )

        errors = await asyncio.gather(*(scale(t) for t in todo))
        async with self.platform.db.unit_of_work() as uow:
            for target, error in zip(todo, errors, strict=True):
                if not error:
                    await uow.groups.set_cluster(
                        path, target.cluster, instances=target.instances, version=target.version
                    )
                entry = _entry(
                    CLUSTER_SCALED, error, cluster=target.cluster, instances=target.instances, version=target.version
                )
                await uow.releases.record(release.id, entry=entry)
        return True

    async def _act(self, release: Release, action: Action) -> tuple[str, str] | None:
        """Do what ``action`` says and record it; the release's end when it ended, else None."""
        match action:
            case Ended(outcome=outcome, error=error):
                return outcome, error
            case Abort(reason=reason):
                return await self._abort(reason)
            case WaitForCluster():
                await self._wait_for_cluster(release, action)
            case PromoteFull() | StartPause() | Advance():
                await self._move(release, action)
            case Rescale(new=new, stable=stable):
                checks = await self._apply_split(new, stable)
                await _record(self.platform, release.id, entry=_entry("scaled", new=new, stable=stable, checks=checks))
            case Nap():
                await self._nap(release, action)
            case Analyze():
                await self._analyze(release, action)
            case ScaleStep():
                return await self._scale_step(release, action)
            case SetWeight():
                await self._set_weight(release, action)
            case Switch(instances=instances):
                await self._switch(release, instances)
            case Retire(event=event):
                return await self._retire(release, event)
        return None

    async def _move(self, release: Release, action: PromoteFull | StartPause | Advance) -> None:
        """Record where the release goes: ``promote --full``, a timed pause begun, a step advanced."""
        match action:
            case PromoteFull(step=step):
                await _record(self.platform, release.id, step=step, entry=_entry("promote", full=True))
            case StartPause(until=until):
                await _record(self.platform, release.id, status="paused", pause_until=until)
            case Advance(step=step, event=event, seconds=seconds):
                entry = _entry(event, seconds=seconds) if event == "pause-ended" else _entry(event)
                await _record(self.platform, release.id, step=step, status="progressing", pause_until=None, entry=entry)

    async def _scale_step(self, release: Release, step: ScaleStep) -> tuple[str, str] | None:
        if step.progressing:
            await _record(self.platform, release.id, status="progressing")
        checks = await self._apply_split(step.new, step.stable)
        entry = _entry(
            "step",
            step=str(release.parsed_steps[step.step]),
            index=step.step,
            new=step.new,
            stable=step.stable,
            checks=checks,
        )
        if not step.last:
            await _record(self.platform, release.id, step=step.step + 1, entry=entry)
            return None
        await _record(self.platform, release.id, entry=entry)
        await self._hand_back(release)
        return "succeeded", ""

    async def _analyze(self, release: Release, action: Analyze) -> None:
        """One interval of an analysis step: wait for it (a command given meanwhile wakes the runner,
        which then decides again), judge the canary against the stable version, record the verdict
        with its numbers. Inconclusive (no or too little data, the metrics store away) records
        ``paused`` and says why; pass and fail ``progressing`` (the decision aborts after enough fails
        in a row, :func:`dockyard.domain.apm.progress`)."""
        if action.wait > 0:
            steered = self.platform.releases_steered
            await woken(steered, min(action.wait, POLL))
            steered.clear()
            return
        policy = apm.parse_policy(_params(self.plan).analysis)
        assert release.stable_version is not None
        try:
            canary, stable = await apm_service.versions_sample(
                self.platform,
                self.ref.path,
                cluster=self.plan.cluster,
                canary=self.plan.number,
                stable=release.stable_version,
                window=float(policy.interval_seconds),
                now=time.time(),
            )
            judgement = apm.judge(action.checks, policy, canary=canary, stable=stable)
        except MetricsFailure as e:
            judgement = apm.unreachable(str(e))
        entry = _entry(
            "analysis",
            step=str(release.parsed_steps[action.step]),
            index=action.step,
            verdict=judgement.verdict,
            reason=judgement.reason,
            numbers=judgement.numbers,
        )
        status = "paused" if judgement.verdict == "inconclusive" else "progressing"
        await _record(self.platform, release.id, status=status, entry=entry)

    async def _set_weight(self, release: Release, step: SetWeight) -> None:
        """A weight step is done once recorded: the edge load balancer reads the share from the release
        (``edge_share``). Recorded with who set it (the release's owner, whose steps these are)."""
        entry = _entry(
            "weight",
            step=str(release.parsed_steps[step.step]),
            index=step.step,
            weight=step.weight,
            by=release.created_by,
        )
        await _record(self.platform, release.id, step=step.step + 1, status="progressing", entry=entry)

    async def _wait_for_cluster(self, release: Release, wait: WaitForCluster) -> None:
        if wait.record:
            await _record(self.platform, release.id, status="waiting", entry=_entry("waiting", "the apiserver is away"))
        await asyncio.sleep(wait.seconds)

    async def _retire(self, release: Release, event: str) -> tuple[str, str]:
        """Blue-green's end: the old set goes while the Service still selects the new one, then the hand-back."""
        await _record(self.platform, release.id, step=2, status="progressing", entry=_entry(event))
        kube = await self._cluster()
        await kube.apply(self._stable(0))
        await self._hand_back(release)
        return "succeeded", ""

    async def _switch(self, release: Release, instances: int) -> None:
        """Blue-green step 0 (see :class:`_BlueGreen`)."""
        assert self.plan.current is not None
        kube = await self._cluster()
        await kube.apply(pinned_service(self.ref, self.plan.current, self.stable))
        checks = await self._bring_up(instances)
        await kube.apply(pinned_service(self.ref, self.plan.number, self.new))
        keep = _params(self.plan).keep_seconds
        until = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=keep)
        entry = _entry("switched", new=instances, stable=instances, checks=checks, keep_seconds=keep)
        await _record(self.platform, release.id, step=1, status="paused", pause_until=until, entry=entry)

    async def _cluster(self) -> ClusterClient:
        self.kube = self.kube or await rollouts.cluster_client(self.platform, self.plan.cluster)
        return self.kube

    async def _apply_split(self, new: int, stable: int) -> list[dict[str, Any]]:
        """Canary up to ``new`` and Ready, checked; then stable down to ``stable``. The checks' results."""
        checks = await self._bring_up(new)
        kube = await self._cluster()
        await kube.apply(self._stable(stable))
        return checks

    async def _bring_up(self, new: int) -> list[dict[str, Any]]:
        """The canary at ``new`` instances, Ready within the step deadline and with few restarts."""
        kube = await self._cluster()
        if self.new.placement and self.new.placement.priority:
            for priority_class in priority_classes():
                await kube.apply(priority_class)
        for manifest in render(self.ref, self.plan.number, self.new, self._secrets(self.new)):
            if manifest["kind"] in ("ConfigMap", "Secret", "ServiceAccount"):
                await kube.apply(manifest)
        await kube.apply(canary(self.ref, self.plan.number, self.new, new))
        deadline = time.time() + _deadline(self.plan)
        limit = _params(self.plan).max_restarts
        while True:
            verdict = canary_check(
                ready=await self._canary_ready(kube),
                wanted=new,
                pods=self.platform.live.pods(self.plan.cluster, self.ref.path),
                version=self.plan.number,
                max_restarts=limit,
                now=time.time(),
                deadline=deadline,
                deadline_seconds=_deadline(self.plan),
            )
            if verdict.state == "failed":
                raise _Failed(verdict.reason)
            if verdict.state == "ready":
                return list(verdict.checks)
            await asyncio.sleep(READY_POLL)

    async def _canary_ready(self, kube: ClusterClient) -> int:
        try:
            live = await kube.get("apps/v1", "Deployment", canary_name(self.ref), namespace=self.ref.namespace)
        except ClusterNotFound:
            return 0
        return ready_instances(live)

    def _stable(self, replicas: int) -> dict[str, Any]:
        assert self.plan.current is not None
        made = deployment(self.ref, self.plan.current, self.stable)
        made["spec"]["replicas"] = replicas
        return made

    def _secrets(self, spec: VersionSpec) -> dict[str, str]:
        return {name: self.platform.box.open(v.token) for name, v in spec.secret_env}

    async def _hand_back(self, release: Release) -> None:
        """The group's own workload moves to the new version at full count; then the canary goes. A
        release scaled meanwhile ends on a copy of the new version with the new count."""
        plan = replace(self.plan, deadline_at=time.time() + _deadline(self.plan), current=release.stable_version)
        if release.total != self.new.instances and self.new.autoscale is not None:
            # Autoscaled: the count is the group's state, not a version (domain/autoscale.py).
            plan = replace(plan, spec=replace(self.new, instances=release.total))
        elif release.total != self.new.instances:
            scaled = self.new.with_changes(instances=release.total)
            reason = f"release {release.id}: scaled to {release.total} instances during the release"
            async with self.platform.db.unit_of_work() as uow:
                made = await uow.versions.add(self.ref.path, scaled, by=release.created_by, reason=reason)
            plan = replace(plan, number=made.number, spec=made.spec)
            self.final_version = made.number
        error = await rollouts.deploy_and_wait(self.platform, plan)
        if error:
            raise _Failed(f"moving the group's workload to version {self.plan.number}: {error}")
        kube = await self._cluster()
        await kube.delete("apps/v1", "Deployment", canary_name(self.ref), namespace=self.ref.namespace)
        if self.part is not None:
            await _cluster_done(self.platform, release, self.part, release.total, self.final_version)
            return
        await _record(self.platform, release.id, status="succeeded", entry=_entry("succeeded"))

    async def _abort(self, why: str) -> tuple[str, str]:
        """Stable back to the full count, canary removed; retried while the apiserver is away."""
        release = await self._load()
        if release.status != "aborting":  # a failed check (an abort command was recorded when taken)
            await _record(self.platform, release.id, status="aborting", error=why, entry=_entry("aborting", why))
        tries = 0
        while True:
            try:
                kube = await self._cluster()
                await kube.apply(self._stable(release.total))
                await self._switch_back(kube)
                await kube.delete("apps/v1", "Deployment", canary_name(self.ref), namespace=self.ref.namespace)
                await self._unpin(kube)
                break
            except ClusterUnavailable:
                self.kube = None
                tries += 1
                await asyncio.sleep(backoff(tries))
            except ClusterFailure as e:
                why = f"{why}; and the abort failed: {e}"
                break
        await _record(self.platform, release.id, status="aborted", entry=_entry("aborted", why))
        return "aborted", why

    async def _nap(self, release: Release, nap: Nap) -> None:
        """Record the status the nap asks for; then wait for a command given through this process, or
        :data:`POLL` seconds (one given through another replica is read at the next turn)."""
        if nap.status is not None:
            await _record(self.platform, release.id, status=nap.status, entry=_entry(nap.event) if nap.event else None)
        steered = self.platform.releases_steered
        await woken(steered, POLL)
        steered.clear()

    async def _switch_back(self, kube: ClusterClient) -> None:
        """Before the canary goes: nothing to do for gray (the Service selects the whole group)."""

    async def _unpin(self, kube: ClusterClient) -> None:
        """After the canary went: nothing to do for gray."""


class _BlueGreen(_Steps):
    """Steps: 0 the new set comes up at full count beside the old one (the Service pinned to the old
    version meanwhile); then the Service switches to the new version; 1 the old set is kept until
    ``promote`` or ``keep_seconds`` (``abort`` switches back at once); 2 the group's workload takes
    the new version, the Service selects the group again, the canary goes."""

    async def _switch_back(self, kube: ClusterClient) -> None:
        assert self.plan.current is not None
        await kube.apply(pinned_service(self.ref, self.plan.current, self.stable))

    async def _unpin(self, kube: ClusterClient) -> None:
        await kube.apply(pinned_service(self.ref, None, self.stable))  # the whole group again
