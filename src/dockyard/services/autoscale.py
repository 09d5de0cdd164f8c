"""The autoscaler: in every server, each group whose running version holds an autoscale policy is
sized by :func:`dockyard.domain.autoscale.decide` from its signals in Prometheus.

One round (:func:`run_round`, every ``config.autoscale.every`` seconds in :func:`run_autoscaler`): for
each such group, take its lease (``autoscale:<system>/<app>/<group>``, adapters/db/leases.py: one
replica decides for a group at a time), read each signal's load over the policy's window, decide, and:

- a count to change, no operation under way: record an ``autoscale`` operation (actor
  ``autoscaler``, parameters the new count, the old one and why: the numbers), which the executor
  runs like a scale of the running version: no new version, the count is the group's state (the
  rollout splits it over the clusters in proportion to their spare room, services/split.py);
- a gray or blue-green release under way: give it the new total (stable + canary), which keeps its
  proportions (``Releases.set_total``; recorded in its ledger as a ``scale`` by ``autoscaler``, from
  and to) and wake its runner; its count is the group's (stable + canary, every cluster:
  domain/release.py ``group_instances``);
- a release across several clusters (it goes cluster by cluster): the new total split over its
  clusters as an autoscale operation splits it (``placement.plan``: in proportion to each cluster's
  spare room for the running version's flavor, largest remainder), each cluster keeping its place in
  the release (domain/release.py ``rescale``): the one under way takes its share as its ``total``
  (its new/stable split follows the current step), those already released run the new version at
  their new count, those not begun the stable one; the per-cluster from/to is in the ledger entry,
  and the release's runner brings the other clusters to their counts (domain/release_steps.py
  ``clusters_to_scale``). A split over other clusters than the release's (the location changed
  meanwhile): nothing;
- a rolling release, one ending (aborting, an abort given) or ended: nothing (domain/release.py
  ``takes_total``; ``set_total`` refuses it too, under the row's lock);
- any other operation under way: nothing (it is never overtaken); scaling up beyond what fits, be it
  an operation or a release's new total: nothing (the preview's fit says why);
- a signal without data, or stale, or Prometheus away: nothing (frozen).

Every change is in the group's history (the operation, or the release's ledger) and in the audit
trail (actor ``autoscaler``). The policy itself is part of the version: :func:`set_policy` and
:func:`turn_off` deploy a new version with it changed (``deploy`` permission); turning it off keeps
the count that runs. A manual scale of an autoscaled group (services/deploys.py ``start_scale``) makes
a version whose policy's ``min`` is the new count (``max`` raised to it if needed): the count asked
for is a floor the autoscaler may go above, never below. A manual scale during a release across
clusters is still refused (409): it gives no split, and a manual scale makes a version, which the
cluster-by-cluster hand-back would make once per cluster.

Refinements of the issue's design, and why: the fit check now also guards a release's new total (on
one cluster too), so "never beyond what fits" holds whatever is under way; a pending ``abort`` command
takes no total (the abort brings the stable version back at the count it reads, and a total given
after the user's abort would only move that target); the other clusters of a release are scaled by
the release's own runner, between its turns (services/release_runner.py ``_scale_others``), not by a
second writer, so one process at a time touches a release's clusters and no step races a scale.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from dockyard.domain import audit as audit_domain
from dockyard.domain.access import Principal, authorize
from dockyard.domain.autoscale import (
    ACTOR,
    Decision,
    GroupKey,
    Policy,
    decide,
    effective_instances,
    load_query,
    settled_at,
)
from dockyard.domain.errors import Conflict, DomainError, NotFound
from dockyard.domain.failures import DatabaseConflict, Failure, MetricsFailure
from dockyard.domain.model import Group, GroupPath, Operation
from dockyard.domain.operations import DEFAULT_DEADLINE, AutoscaleParams
from dockyard.domain.release import Release, group_instances, takes_total
from dockyard.domain.targets import Changes
from dockyard.domain.versions import VersionSpec
from dockyard.services import audit, deploys, placement
from dockyard.services.platform import Platform
from dockyard.services.workers import runner_id

log = logging.getLogger(__name__)
LEASE_PREFIX = "autoscale:"
HISTORY = 10  # decisions the status shows


@dataclass(frozen=True)
class Outcome:
    """What one group's turn did: ``acted`` an operation (its id) or a release's new total, else why not."""

    group: GroupPath
    decision: Decision | None
    acted: str = ""
    note: str = ""


@dataclass(frozen=True)
class AutoscaleStatus:
    """A group's policy (None: none), its count now, what the autoscaler would decide now, the split
    of that count over the clusters (as the preview computes it), and its last decisions."""

    group: GroupPath
    version: int | None
    policy: Policy | None
    current: int
    decision: Decision | None
    split: Mapping[str, int]
    note: str
    last: Sequence[Operation]


# --- The loop ---------------------------------------------------------------------------------------


async def run_autoscaler(platform: Platform, *, runner: str = "") -> None:
    """Decide every ``config.autoscale.every`` seconds until cancelled; a round that fails (the
    database away) is logged and tried again at the next."""
    me = runner or runner_id()
    every = platform.config.autoscale.every
    while True:
        started = time.monotonic()
        try:
            await run_round(platform, runner=me, now=time.time())
        except (Failure, DomainError) as e:
            log.warning("autoscaler round failed: %s", e)
        await asyncio.sleep(max(0.0, every - (time.monotonic() - started)))


async def run_round(platform: Platform, *, runner: str, now: float) -> list[Outcome]:
    """One decision for every autoscaled group whose lease this runner gets (see the module)."""
    outcomes: list[Outcome] = []
    for group, spec in await _autoscaled(platform):
        assert spec.autoscale is not None
        if not await _claim(platform, group.path, runner):
            continue
        outcomes.append(await decide_and_act(platform, group, spec, now=now))
    return outcomes


async def _autoscaled(platform: Platform) -> list[tuple[Group, VersionSpec]]:
    """The groups whose running version holds a policy, with that version's spec."""
    found: list[tuple[Group, VersionSpec]] = []
    async with platform.db.unit_of_work() as uow:
        for system in await uow.systems.all():
            for app in await uow.applications.of_system(system.name):
                for group in await uow.groups.of_app(app.path):
                    if group.current_version is None:
                        continue
                    version = await uow.versions.get(group.path, group.current_version)
                    if version is not None and version.spec.autoscale is not None:
                        found.append((group, version.spec))
    return found


async def _claim(platform: Platform, group: GroupPath, runner: str) -> bool:
    try:
        async with platform.db.unit_of_work() as uow:
            return await uow.leases.claim(f"{LEASE_PREFIX}{group}", runner, seconds=platform.config.autoscale.lease)
    except DatabaseConflict:
        return False  # another replica inserted the lease first


async def decide_and_act(platform: Platform, group: Group, spec: VersionSpec, *, now: float) -> Outcome:
    """Decide for ``group`` (running ``spec``) and act on the decision (see the module)."""
    policy = spec.autoscale
    assert policy is not None
    path = group.path
    async with platform.db.unit_of_work() as uow:
        active = await uow.operations.active(path)
        release = await uow.releases.get(active.id) if active is not None and active.action == "release" else None
        history = await uow.operations.history(path, limit=1)
    if active is not None and release is None:
        return Outcome(path, None, note=f"{active.action} {active.id} under way: not overtaken")
    current = group_instances(release) if release is not None else _recorded(group, spec)
    decision = decide(
        policy,
        current=current,
        readings=await read_signals(platform, path, policy, now=now),
        now=now,
        stale_seconds=platform.config.autoscale.stale_seconds,
        settled=_settled(platform, group, history, now=now),
    )
    if not decision.changes:
        return Outcome(path, decision)
    if release is not None:
        return await _give_release(platform, group, spec, release, decision)
    try:
        operation = await _record(platform, group, spec, decision)
    except DomainError as e:
        log.info("autoscaler: %s stays at %d: %s", path, current, e)
        return Outcome(path, decision, note=str(e))
    await _audit(platform, path, decision, operation.id)
    return Outcome(path, decision, acted=operation.id)


async def _give_release(
    platform: Platform, group: Group, spec: VersionSpec, release: Release, decision: Decision
) -> Outcome:
    """``decision``'s total given to ``release`` (split over its clusters when it has several), its
    runner woken to apply it; else why not."""
    path = group.path
    if not takes_total(release):
        return Outcome(path, decision, note=f"release {release.id} cannot take a new total")
    try:
        counts = await _release_split(platform, group, spec, release, decision)
    except DomainError as e:
        log.info("autoscaler: %s stays at %d: %s", path, decision.current, e)
        return Outcome(path, decision, note=str(e))
    async with platform.db.unit_of_work() as uow:
        taken = await uow.releases.set_total(release.id, decision.desired, by=ACTOR, clusters=counts)
    if not taken:
        return Outcome(path, decision, note=f"release {release.id} cannot take a new total")
    platform.releases_steered.set()
    await _audit(platform, path, decision, release.id)
    return Outcome(path, decision, acted=release.id)


async def _release_split(
    platform: Platform, group: Group, spec: VersionSpec, release: Release, decision: Decision
) -> dict[str, int] | None:
    """The new total of a release under way, split over its clusters as an autoscale operation would split
    it (:func:`placement.plan`: in proportion to each cluster's spare room for the running version's
    flavor, largest remainder); None on one cluster. :class:`DoesNotFit` when scaling up would leave
    instances without a node; :class:`Conflict` when the release's clusters are not the group's."""
    assert group.current_version is not None
    number = group.current_version
    sized = replace(spec, instances=decision.desired)
    async with platform.db.unit_of_work() as uow:
        found = await uow.groups.get(group.path)
        if found is None or found.current_version != number:
            raise Conflict(f"group {group.path} changed meanwhile")
        planned = await placement.plan(platform, uow, found, number, sized, pin=False)
    if decision.desired > decision.current:
        placement.check_fits(platform, planned, number, sized)
    if not release.clusters:
        return None
    names = {str(c["cluster"]) for c in release.clusters}
    if set(planned.counts) != names:
        raise Conflict(
            f"release {release.id} goes over {', '.join(sorted(names))}; the group would now be split over "
            f"{', '.join(sorted(planned.counts))}"
        )
    return dict(planned.counts)


def _settled(platform: Platform, group: Group, history: Sequence[Operation], *, now: float) -> float:
    """From when the group's rate signals measure its load (domain/autoscale.settled_at): its instances
    last changed when the newest of them was created or its last operation ended (instances removed),
    or now while one is being deleted. ``history``: the group's operations, newest first."""
    times = [op.finished_at.timestamp() for op in history[:1] if op.finished_at is not None]
    for placed in group.clusters:
        for pod in platform.live.instances(placed.cluster):
            if (pod.namespace, pod.app, pod.group) == (group.system, group.app, group.name):
                if pod.deleting:
                    return settled_at(now, platform.config.autoscale.step)
                times.append(pod.created)
    return settled_at(max(times), platform.config.autoscale.step) if times else float("-inf")


def _recorded(group: Group, spec: VersionSpec) -> int:
    recorded = sum(p.instances for p in group.clusters)
    return effective_instances(spec.instances, spec.autoscale, recorded or None)


async def read_signals(platform: Platform, group: GroupPath, policy: Policy, *, now: float) -> dict[str, list[Any]]:
    """Each signal's load over the policy's window, by signal key; a signal Prometheus cannot give
    is left out (the decision then freezes)."""
    config = platform.config.autoscale
    metrics = platform.metrics
    if metrics is None:
        return {}
    key = GroupKey(group.system, group.app, group.group)
    start = now - policy.window_seconds - config.step
    readings: dict[str, list[Any]] = {}
    for signal in policy.signals:
        promql = load_query(signal, key, requests_series=config.requests_series)
        try:
            found = await metrics.query_range(promql, start=start, end=now, step=config.step)
        except MetricsFailure as e:
            log.info("autoscaler: %s: %s cannot be read: %s", group, signal.key, e)
            continue
        if found:
            readings[signal.key] = list(found[0].points)
    return readings


async def _record(platform: Platform, group: Group, spec: VersionSpec, decision: Decision) -> Operation:
    """The ``autoscale`` operation of ``decision``; :class:`DoesNotFit` when scaling up would leave
    instances without a node, :class:`Conflict` when another operation came first."""
    assert group.current_version is not None
    number = group.current_version
    sized = replace(spec, instances=decision.desired)
    by = Principal(name=ACTOR, admin=True)
    async with deploys.recording(platform, group.path) as uow:
        found = await uow.groups.get(group.path)
        if found is None or found.current_version != number:
            raise Conflict(f"group {group.path} changed meanwhile")
        if decision.desired > decision.current:
            planned = await placement.plan(platform, uow, found, number, sized, pin=False)
            placement.check_fits(platform, planned, number, sized)
        params = AutoscaleParams(
            number, DEFAULT_DEADLINE, instances=decision.desired, was=decision.current, why=decision.reason
        )
        operation = deploys.pending("autoscale", by, group.path, params)
        await uow.operations.add(operation)
    return operation


async def _audit(platform: Platform, group: GroupPath, decision: Decision, ref: str) -> None:
    record = audit_domain.new_record(
        at=dt.datetime.now(dt.UTC),
        actor=ACTOR,
        source_ip="",
        request_id=ref,
        method="",
        action="autoscale",
        target={"system": group.system, "app": group.app, "group": group.group},
        outcome="allowed",
        status=202,
        reason=decision.reason,
        changes={"instances": {"from": decision.current, "to": decision.desired}},
    )
    try:
        await audit.record(platform, record)
    except DomainError as e:
        log.warning("autoscaler: the audit trail cannot take the decision on %s: %s", group, e)


# --- Use cases --------------------------------------------------------------------------------------


async def status(platform: Platform, by: Principal, group: GroupPath) -> AutoscaleStatus:
    """The group's policy, count, the decision it would get now and its last decisions (read)."""
    authorize(by, "read", group.system, group.app)
    async with platform.db.unit_of_work() as uow:
        found = await uow.groups.get(group)
        if found is None:
            raise NotFound(f"group {group.group!r} does not exist in {group.app_path}")
        version = await uow.versions.get(group, found.current_version) if found.current_version else None
        history = await uow.operations.history(group, limit=200)
        active = await uow.operations.active(group)
        release = await uow.releases.get(active.id) if active is not None and active.action == "release" else None
    last = [op for op in history if op.actor == ACTOR][:HISTORY]
    if version is None or version.spec.autoscale is None:
        current = sum(p.instances for p in found.clusters)
        return AutoscaleStatus(group, found.current_version, None, current, None, {}, "no autoscale policy", last)
    spec = version.spec
    current = group_instances(release) if release is not None else _recorded(found, spec)
    now = time.time()
    assert spec.autoscale is not None
    decision = decide(
        spec.autoscale,
        current=current,
        readings=await read_signals(platform, group, spec.autoscale, now=now),
        now=now,
        stale_seconds=platform.config.autoscale.stale_seconds,
        settled=_settled(platform, found, history, now=now),
    )
    note = f"{active.action} {active.id} under way" if active is not None else ""
    try:
        async with platform.db.unit_of_work() as uow:
            planned = await placement.plan(
                platform, uow, found, version.number, replace(spec, instances=decision.desired), pin=False
            )
        split = dict(planned.counts)
    except DomainError as e:
        split, note = {}, note or f"the split cannot be computed now: {e}"
    return AutoscaleStatus(group, version.number, spec.autoscale, current, decision, split, note, last)


async def set_policy(
    platform: Platform, by: Principal, *, group: GroupPath, policy: Mapping[str, Any], reason: str = ""
) -> Operation:
    """Deploy a new version with ``policy`` (checked as part of the spec: :class:`InvalidInput` naming
    ``autoscale.<field>``); the count that runs is kept within the new bounds."""
    return await deploys.start_deploy(
        platform, by, group=group, target=Changes({"autoscale": dict(policy)}), reason=reason or "autoscale policy set"
    )


async def turn_off(platform: Platform, by: Principal, *, group: GroupPath, reason: str = "") -> Operation:
    """Deploy a new version without a policy, at the count that runs now (:class:`Conflict` when the
    running version has none)."""
    authorize(by, "deploy", group.system, group.app)
    async with platform.db.unit_of_work() as uow:
        found = await uow.groups.get(group)
        if found is None:
            raise NotFound(f"group {group.group!r} does not exist in {group.app_path}")
        version = await uow.versions.get(group, found.current_version) if found.current_version else None
    if version is None or version.spec.autoscale is None:
        raise Conflict(f"group {group.group!r} is not autoscaled")
    changes = {"autoscale": None, "instances": _recorded(found, version.spec)}
    return await deploys.start_deploy(
        platform, by, group=group, target=Changes(changes), reason=reason or "autoscale policy turned off"
    )
