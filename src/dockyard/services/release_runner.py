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
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from dataclasses import replace
from typing import Any

from dockyard.adapters.kube.client import KubeCluster
from dockyard.adapters.kube.errors import KubeError, KubeNotFoundError, KubeUnavailableError
from dockyard.domain.errors import InvalidInput, NotFound
from dockyard.domain.model import GroupPath, Operation
from dockyard.domain.operations import ReleaseParams
from dockyard.domain.placement import priority_classes
from dockyard.domain.release import ENDED, Release, final_step, split
from dockyard.domain.render import GroupRef, canary, canary_name, deployment, pinned_service, render
from dockyard.domain.versions import VersionSpec
from dockyard.services import rollouts
from dockyard.services.platform import Platform

POLL = 0.5  # how often a waiting release looks again (a command given to this process wakes it at once)
READY_POLL = 0.1  # how often a step looks at its new instances
MAX_BACKOFF = 5.0
MAX_KEEP = 24 * 3600
# A blue-green release's steps, as shown: bring the new set up, switch, then keep the old set a while.
BLUE_GREEN_STEPS = ("100%", "pause", "100%")


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
    if release.strategy == "rolling" or stable is None:
        error = await rollouts.deploy_and_wait(platform, replace(plan, deadline_at=time.time() + _deadline(plan)))
        await _record(platform, release.id, status="failed" if error else "succeeded", entry=_entry("rollout", error))
        return await _end(platform, operation_id, "failed" if error else "succeeded", error, plan.number)
    runner = (_BlueGreen if release.strategy == "blue-green" else _Gray)(platform, plan, stable.spec)
    outcome, error = await runner.drive()
    return await _end(platform, operation_id, outcome, error, runner.final_version if outcome == "succeeded" else None)


async def _by_cluster(
    platform: Platform, plan: rollouts.Plan, release: Release, stable: VersionSpec | None
) -> Operation:
    """A group on several clusters: each cluster of ``release.clusters`` in turn, with its own count,
    through all the steps (a rolling release: one rollout per cluster); the first failure ends it."""
    assert plan.spec is not None
    op_id = plan.operation.id
    while True:
        async with platform.db.unit_of_work() as uow:
            found = await uow.releases.get(release.id)
        assert found is not None
        release = found
        index = release.cluster_index
        name, count = str(release.clusters[index]["cluster"]), int(release.clusters[index]["instances"])
        last = index == len(release.clusters) - 1
        advance = None if last else (index + 1, int(release.clusters[index + 1]["instances"]))
        spec = plan.spec if plan.spec.instances == count else plan.spec.with_changes(instances=count)
        here = replace(await rollouts.on_cluster(platform, plan, name, spec), deadline_at=time.time() + _deadline(plan))
        if release.strategy == "rolling" or stable is None:
            error = await rollouts.deploy_and_wait(platform, here)
            if error:
                await _record(platform, release.id, status="failed", entry=_entry("rollout", error, cluster=name))
                return await _end(platform, op_id, "failed", f"{name}: {error}")
            await _cluster_done(platform, release, name, count, plan.number, advance)
            version = plan.number
        else:
            kind = _BlueGreen if release.strategy == "blue-green" else _Gray
            keep = stable if stable.instances == count else stable.with_changes(instances=count)
            runner = kind(platform, here, keep, part=(name, count), advance=advance)
            outcome, error = await runner.drive()
            if outcome != "succeeded":
                return await _end(platform, op_id, outcome, f"{name}: {error}")
            version = runner.final_version
        if last:
            return await _end(platform, op_id, "succeeded", "", version)


async def _cluster_done(
    platform: Platform, release: Release, cluster: str, count: int, version: int, advance: tuple[int, int] | None
) -> None:
    """One cluster of a release is on the new version: record it there, then start the next one (or
    end the release)."""
    async with platform.db.unit_of_work() as uow:
        await uow.groups.set_cluster(
            GroupPath(release.system, release.app, release.group), cluster, instances=count, version=version
        )
        if advance is None:
            await uow.releases.record(release.id, status="succeeded", entry=_entry("succeeded", cluster=cluster))
        else:
            await uow.releases.record(
                release.id,
                status="progressing",
                step=0,
                pause_until=None,
                cluster_index=advance[0],
                total=advance[1],
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


class _Gray:
    def __init__(
        self,
        platform: Platform,
        plan: rollouts.Plan,
        stable: VersionSpec,
        *,
        part: tuple[str, int] | None = None,
        advance: tuple[int, int] | None = None,
    ) -> None:
        self.part = part  # (cluster, instances) when the release goes cluster by cluster
        self.advance = advance  # (index, instances) of the cluster after this one, if any
        self.platform = platform
        self.plan = plan
        self.stable = stable
        assert plan.spec is not None
        self.new = plan.spec
        self.kube: KubeCluster | None = None
        self.backoff = POLL
        self.final_version = plan.number  # another one if the release was scaled meanwhile

    @property
    def ref(self) -> GroupRef:
        return self.plan.ref

    async def _load(self) -> Release:
        async with self.platform.db.unit_of_work() as uow:
            found = await uow.releases.get(self.plan.operation.id)
        assert found is not None
        return found

    async def _take(self, command: str) -> bool:
        async with self.platform.db.unit_of_work() as uow:
            return await uow.releases.take_command(self.plan.operation.id, command)

    async def drive(self) -> tuple[str, str]:
        """Run to the end; ``("succeeded", "")`` or ``("aborted", why)``."""
        while True:
            release = await self._load()
            if release.status in ENDED:
                return ("succeeded", "") if release.status == "succeeded" else ("aborted", release.error)
            if release.status == "aborting" or (release.command == "abort" and await self._take("abort")):
                why = release.error or f"aborted at step {release.step + 1} ({release.steps[release.step]})"
                return await self._abort(why)
            try:
                if await self._turn(release):
                    return "succeeded", ""
                self.backoff = POLL
            except _Failed as e:
                return await self._abort(str(e))
            except KubeUnavailableError:
                await self._wait_for_cluster(release)
            except KubeError as e:
                return await self._abort(f"cluster {self.plan.cluster} refused: {e}")

    async def _turn(self, release: Release) -> bool:
        """One step's worth of work; True once the release has succeeded."""
        steps = release.parsed_steps
        if release.command == "full" and await self._take("full"):
            await _record(self.platform, release.id, step=final_step(steps), entry=_entry("promote", full=True))
            return False
        if steps[release.step].kind == "pause":
            await self._pause_turn(release)
            return False
        if release.paused:
            if release.status != "paused":
                await _record(self.platform, release.id, status="paused", entry=_entry("paused"))
            await self._nap()
            return False
        return await self._step_turn(release)

    async def _keep_split(self, release: Release, want: tuple[int, int]) -> None:
        """After a scale during the release: the current split again, at the new total."""
        applied = next(
            ((e["new"], e["stable"]) for e in reversed(release.ledger) if e["event"] in ("step", "scaled", "switched")),
            None,
        )
        if applied is None or tuple(applied) == want:
            return
        checks = await self._apply_split(*want)
        await _record(self.platform, release.id, entry=_entry("scaled", new=want[0], stable=want[1], checks=checks))

    async def _pause_turn(self, release: Release) -> None:
        step = release.parsed_steps[release.step]
        await self._keep_split(release, split(release.parsed_steps, release.step, release.total))
        now = dt.datetime.now(dt.UTC)
        promoted = release.command == "promote" and await self._take("promote")
        if step.value is not None and release.pause_until is None and not promoted:
            until = now + dt.timedelta(seconds=step.value)
            await _record(self.platform, release.id, status="paused", pause_until=until)
            return
        timed_out = release.pause_until is not None and now >= release.pause_until and not release.paused
        if promoted or timed_out:
            event = _entry("promote") if promoted else _entry("pause-ended", seconds=step.value)
            next_step = release.step + 1
            await _record(
                self.platform, release.id, step=next_step, status="progressing", pause_until=None, entry=event
            )
            return
        if release.status != "paused":
            await _record(self.platform, release.id, status="paused")
        await self._nap()

    async def _step_turn(self, release: Release) -> bool:
        steps = release.parsed_steps
        if release.command == "promote":
            await self._take("promote")  # nothing to promote while a step runs: it goes on by itself
        if release.status != "progressing":
            await _record(self.platform, release.id, status="progressing")
        new, stable = split(steps, release.step, release.total)
        checks = await self._apply_split(new, stable)
        entry = _entry("step", step=str(steps[release.step]), new=new, stable=stable, checks=checks)
        if release.step != final_step(steps):
            await _record(self.platform, release.id, step=release.step + 1, entry=entry)
            return False
        await _record(self.platform, release.id, entry=entry)
        await self._hand_back(release)
        return True

    async def _cluster(self) -> KubeCluster:
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
            ready = await self._canary_ready(kube)
            restarts = max(
                (p.restarts for p in self._pods() if p.version == str(self.plan.number) and not p.deleting), default=0
            )
            if restarts > limit:
                raise _Failed(f"{restarts} restarts of an instance of version {self.plan.number} (limit {limit})")
            if ready >= new:
                break
            if time.time() > deadline:
                why = self._why_not_ready()
                raise _Failed(
                    f"{ready}/{new} instances of version {self.plan.number} ready after {_deadline(self.plan)}s"
                    + (f": {why}" if why else "")
                )
            await asyncio.sleep(READY_POLL)
        return [
            {"check": "ready", "ok": True, "ready": ready, "wanted": new},
            {"check": "restarts", "ok": True, "max": restarts, "limit": limit},
        ]

    def _pods(self) -> list[Any]:
        return self.platform.live.pods(self.plan.cluster, self.ref.path)

    def _why_not_ready(self) -> str:
        reasons = {p.reason for p in self._pods() if p.version == str(self.plan.number) and p.reason}
        return "; ".join(sorted(reasons))[:500]

    async def _canary_ready(self, kube: KubeCluster) -> int:
        try:
            live = await kube.get("apps/v1", "Deployment", canary_name(self.ref), namespace=self.ref.namespace)
        except KubeNotFoundError:
            return 0
        status = live.get("status") or {}
        if int(status.get("observedGeneration") or 0) < int(live["metadata"].get("generation") or 0):
            return 0
        return int(status.get("readyReplicas") or 0)

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
        if release.total != self.new.instances:
            scaled = self.new.with_changes(instances=release.total)
            reason = f"release {release.id}: scaled to {release.total} instances during the release"
            async with self.platform.db.unit_of_work() as uow:
                made = await uow.versions.add(
                    self.ref.path,
                    scaled,
                    by=release.created_by,
                    reason=reason,
                )
            plan = replace(plan, number=made.number, spec=made.spec)
            self.final_version = made.number
        error = await rollouts.deploy_and_wait(self.platform, plan)
        if error:
            raise _Failed(f"moving the group's workload to version {self.plan.number}: {error}")
        kube = await self._cluster()
        await kube.delete("apps/v1", "Deployment", canary_name(self.ref), namespace=self.ref.namespace)
        if self.part is not None:
            await _cluster_done(self.platform, release, *self.part, self.final_version, self.advance)
            return
        await _record(self.platform, release.id, status="succeeded", entry=_entry("succeeded"))

    async def _abort(self, why: str) -> tuple[str, str]:
        """Stable back to the full count, canary removed; retried while the apiserver is away."""
        release = await self._load()
        await _record(self.platform, release.id, status="aborting", error=why, entry=_entry("aborting", why))
        backoff = POLL
        while True:
            try:
                kube = await self._cluster()
                await kube.apply(self._stable(release.total))
                await self._switch_back(kube)
                await kube.delete("apps/v1", "Deployment", canary_name(self.ref), namespace=self.ref.namespace)
                await self._unpin(kube)
                break
            except KubeUnavailableError:
                self.kube = None
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
            except KubeError as e:
                why = f"{why}; and the abort failed: {e}"
                break
        await _record(self.platform, release.id, status="aborted", entry=_entry("aborted", why))
        return "aborted", why

    async def _nap(self) -> None:
        """Wait for a command given through this process, or :data:`POLL` seconds (one given through
        another replica is read at the next turn)."""
        steered = self.platform.releases_steered
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(steered.wait(), POLL)
        steered.clear()

    async def _switch_back(self, kube: KubeCluster) -> None:
        """Before the canary goes: nothing to do for gray (the Service selects the whole group)."""

    async def _unpin(self, kube: KubeCluster) -> None:
        """After the canary went: nothing to do for gray."""

    async def _wait_for_cluster(self, release: Release) -> None:
        self.kube = None
        if release.status != "waiting":
            await _record(self.platform, release.id, status="waiting", entry=_entry("waiting", "the apiserver is away"))
        await asyncio.sleep(self.backoff)
        self.backoff = min(self.backoff * 2, MAX_BACKOFF)


class _BlueGreen(_Gray):
    """Steps: 0 the new set comes up at full count beside the old one (the Service pinned to the old
    version meanwhile); then the Service switches to the new version; 1 the old set is kept until
    ``promote`` or ``keep_seconds`` (``abort`` switches back at once); 2 the group's workload takes
    the new version, the Service selects the group again, the canary goes."""

    async def _turn(self, release: Release) -> bool:
        kube = await self._cluster()
        if release.step == 0:
            assert self.plan.current is not None
            await kube.apply(pinned_service(self.ref, self.plan.current, self.stable))
            checks = await self._bring_up(release.total)
            await kube.apply(pinned_service(self.ref, self.plan.number, self.new))
            keep = _params(self.plan).keep_seconds
            until = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=keep)
            entry = _entry("switched", new=release.total, stable=release.total, checks=checks, keep_seconds=keep)
            await _record(self.platform, release.id, step=1, status="paused", pause_until=until, entry=entry)
            return False
        await self._keep_split(release, (release.total, release.total))
        promoted = release.command in ("promote", "full") and await self._take(release.command)
        due = release.pause_until is not None and dt.datetime.now(dt.UTC) >= release.pause_until
        if not (promoted or (due and not release.paused)):
            await self._nap()
            return False
        await _record(
            self.platform, release.id, step=2, status="progressing", entry=_entry("promote" if promoted else "kept")
        )
        await kube.apply(self._stable(0))  # the old set goes while the Service still selects the new one
        await self._hand_back(release)
        return True

    async def _switch_back(self, kube: KubeCluster) -> None:
        assert self.plan.current is not None
        await kube.apply(pinned_service(self.ref, self.plan.current, self.stable))

    async def _unpin(self, kube: KubeCluster) -> None:
        await kube.apply(pinned_service(self.ref, None, self.stable))  # the whole group again
