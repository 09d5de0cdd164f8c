"""Inspection: gather the facts of each cluster and of Dockyard itself, run the checks
(domain/inspection.py), record the run with its report and what changed since the last one, and
tell failed checks through the alert channels; on demand and on the platform's schedule.

Contracts:

- Everything here is for platform admins (:class:`Forbidden` otherwise): the report covers shared
  infrastructure (control planes, every node) and Dockyard itself, which no system owner holds.
- Gathering reads the watch caches (nodes, their requests, instances) and never lists the apiserver
  for what a cache holds; the control plane is read through the
  :class:`~dockyard.services.ports.ControlPlaneReader` port, Prometheus' targets through
  :class:`~dockyard.services.ports.Metrics`. A fact that cannot be read becomes a finding, never an
  error of the run.
- Telling: when the schedule names a ``notify_system``, each failed finding is an alert episode of
  that system (``alertname`` ``DockyardInspectionFailed``, its ``cluster`` and ``check`` as labels,
  starting when the check began failing), queued to the system's channels in the run's own
  transaction through the same history and notifier as Alertmanager's alerts: a failure seen by many
  runs is told once, and told resolved when a run no longer sees it.
- The schedule: every server looks (:func:`run_inspection_schedule`); a due slot is taken by one
  conditional update of the schedule's ``next_at``, so of several servers exactly one runs it.
  A run left ``running`` by a server that died is ended as failed after :data:`ABANDON_AFTER`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
from collections.abc import Callable, Sequence

from dockyard.domain.access import Principal, require_admin
from dockyard.domain.alerts import Received
from dockyard.domain.clusters import Cluster
from dockyard.domain.errors import DomainError, InvalidInput, NotFound
from dockyard.domain.failures import Failure
from dockyard.domain.inspection import (
    Change,
    ClusterFacts,
    ControlPlane,
    DockyardFacts,
    Finding,
    NodeFacts,
    PendingWork,
    Run,
    Target,
    Watch,
    carry,
    comparable,
    counts,
    diff,
    inspect,
    overall,
    to_notify,
)
from dockyard.domain.inspection import Condition as ProblemCondition
from dockyard.domain.inspection_schedule import Schedule, check, next_run
from dockyard.services import audit
from dockyard.services.platform import Platform
from dockyard.services.ports import UnitOfWork

log = logging.getLogger(__name__)
ALERT_NAME = "DockyardInspectionFailed"
INSPECTOR = Principal(name="inspection", admin=True)  # the audit chain's verification, run by the schedule
ABANDON_AFTER = dt.timedelta(hours=1)
Clock = Callable[[], dt.datetime]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --- Use cases --------------------------------------------------------------------------------------


async def run(platform: Platform, by: Principal, *, clusters: Sequence[str] = ()) -> Run:
    """Inspect now (``clusters``: only those, and not Dockyard itself; none: everything); the run
    with its report. An unknown cluster is an InvalidInput (``cluster``)."""
    require_admin(by, "running an inspection")
    return await execute(platform, trigger="manual", by=by.name, clusters=clusters)


async def runs(platform: Platform, by: Principal, *, limit: int = 50) -> list[Run]:
    require_admin(by, "reading inspections")
    if not 1 <= limit <= 500:
        raise InvalidInput("limit", "must be between 1 and 500")
    async with platform.db.unit_of_work() as uow:
        return await uow.inspections.runs(limit=limit)


async def show(platform: Platform, by: Principal, run_id: int) -> Run:
    require_admin(by, "reading inspections")
    async with platform.db.unit_of_work() as uow:
        found = await uow.inspections.get(run_id)
    if found is None:
        raise NotFound(f"there is no inspection run {run_id}")
    return found


async def compare(
    platform: Platform, by: Principal, run_id: int, *, against: int | None = None
) -> tuple[Run, Run | None, list[Change]]:
    """What changed from run ``against`` (default: the run before ``run_id`` it was compared with)
    to run ``run_id``: the two runs and the changes."""
    require_admin(by, "reading inspections")
    async with platform.db.unit_of_work() as uow:
        newer = await uow.inspections.get(run_id)
        if newer is None:
            raise NotFound(f"there is no inspection run {run_id}")
        base = against if against is not None else newer.previous_id
        older = await uow.inspections.get(base) if base is not None else None
    if against is not None and older is None:
        raise NotFound(f"there is no inspection run {against}")
    if older is None:
        return newer, None, diff([], newer.findings)
    return newer, older, diff(comparable(older.findings, newer.findings), newer.findings)


async def schedule(platform: Platform, by: Principal) -> Schedule:
    require_admin(by, "reading the inspection schedule")
    async with platform.db.unit_of_work() as uow:
        found = await uow.inspections.schedule()
    if found.next_at is None and found.enabled:
        found = Schedule(**{**found.__dict__, "next_at": next_run(found.cron, found.timezone, after=_now())})
    return found


async def set_schedule(
    platform: Platform, by: Principal, *, cron: str, timezone: str, enabled: bool, notify_system: str
) -> Schedule:
    """Replace the schedule; the next run is computed from now. ``notify_system`` must exist."""
    require_admin(by, "changing the inspection schedule")
    check(cron, timezone, notify_system)
    now = _now()
    made = Schedule(
        cron=cron,
        timezone=timezone,
        enabled=enabled,
        notify_system=notify_system,
        next_at=next_run(cron, timezone, after=now) if enabled else None,
        changed_by=by.name,
        changed_at=now,
    )
    async with platform.db.unit_of_work() as uow:
        if notify_system and await uow.systems.get(notify_system) is None:
            raise InvalidInput("notify_system", f"system {notify_system!r} does not exist")
        await uow.inspections.set_schedule(made)
    return made


# --- The schedule -----------------------------------------------------------------------------------


async def tick(platform: Platform, *, now: dt.datetime) -> Run | None:
    """One look at the schedule at ``now``: run the due slot if this call takes it; the run, if any."""
    async with platform.db.unit_of_work() as uow:
        await uow.inspections.abandon(started_before=now - ABANDON_AFTER, now=now)
        current = await uow.inspections.schedule()
    if current.changed_at is None and current.next_at is None:
        # Never set nor started: the default schedule begins with its next slot.
        async with platform.db.unit_of_work() as uow:
            await uow.inspections.advance(None, next_run(current.cron, current.timezone, after=now))
        return None
    if not current.enabled or current.next_at is None or current.next_at > now:
        return None
    following = next_run(current.cron, current.timezone, after=now)
    async with platform.db.unit_of_work() as uow:
        taken = await uow.inspections.advance(current.next_at, following)
    if not taken:
        return None
    return await execute(platform, trigger="schedule", by="schedule", clusters=(), now=now)


async def run_inspection_schedule(platform: Platform, *, poll: float = 30.0, clock: Clock = _now) -> None:
    """Look at the schedule every ``poll`` seconds until cancelled (each server does; one runs a slot)."""
    while True:
        try:
            await tick(platform, now=clock())
        except (DomainError, Failure) as e:  # the database away, two servers creating the schedule at once
            log.warning("inspection schedule: %s", e)
        await asyncio.sleep(poll)


# --- A run ------------------------------------------------------------------------------------------


async def execute(
    platform: Platform, *, trigger: str, by: str, clusters: Sequence[str], now: dt.datetime | None = None
) -> Run:
    """Gather, check, record and tell; the finished run."""
    started = now or _now()
    async with platform.db.unit_of_work() as uow:
        registered = await uow.clusters.all()
    names = {c.name for c in registered}
    for name in clusters:
        if name not in names:
            raise InvalidInput("cluster", f"no cluster {name!r} is registered")
    chosen = [c for c in registered if not clusters or c.name in clusters]
    async with platform.db.unit_of_work() as uow:
        run_id = await uow.inspections.start(trigger=trigger, by=by, clusters=list(clusters), now=started)
    try:
        facts = await asyncio.gather(*(gather_cluster(platform, c) for c in chosen))
        mine = None if clusters else await gather_dockyard(platform, now=started)
        findings = inspect(facts, mine, platform.config.inspection, now=started)
        queued = 0
        async with platform.db.unit_of_work() as uow:
            previous = await uow.inspections.last_done(before=run_id)
            before = comparable(previous.findings, findings) if previous else []
            findings = carry(findings, before, now=started)
            current = await uow.inspections.schedule()
            if current.notify_system:
                queued = await _tell(uow, current.notify_system, findings, before, run_id=run_id, now=_now())
            await uow.inspections.finish(
                run_id,
                status="done",
                result=overall(findings),
                counts=counts(findings),
                findings=findings,
                changes=diff(before, findings),
                previous_id=previous.id if previous else None,
                error="",
                now=_now(),
            )
    except (DomainError, Failure) as e:
        async with platform.db.unit_of_work() as uow:
            await uow.inspections.finish(
                run_id,
                status="failed",
                result="failed",
                counts={},
                findings=[],
                changes=[],
                previous_id=None,
                error=str(e) or type(e).__name__,
                now=_now(),
            )
        raise
    if queued:
        platform.notifications_added.set()
    async with platform.db.unit_of_work() as uow:
        done = await uow.inspections.get(run_id)
    assert done is not None
    return done


async def _tell(
    uow: UnitOfWork,
    system: str,
    findings: Sequence[Finding],
    before: Sequence[Finding],
    *,
    run_id: int,
    now: dt.datetime,
) -> int:
    """Record the failed findings (and those resolved since ``before``) as alert episodes of
    ``system``; how many notifications that queued."""
    firing, resolved = to_notify(findings, before)
    channels = len(await uow.alerts.channels(system))
    queued = 0
    for f, status in [*((f, "firing") for f in firing), *((f, "resolved") for f in resolved)]:
        assert f.since is not None
        labels = {
            "alertname": ALERT_NAME,
            "system": system,
            "cluster": f.cluster,
            "check": f.check,
            "severity": "critical",
        }
        annotations = {"summary": f"{f.cluster}: {f.check}: {f.summary}"[:4000], "run": str(run_id)}
        received = Received(
            fingerprint=_fingerprint(f),
            status="firing" if status == "firing" else "resolved",
            labels=labels,
            annotations=annotations,
            starts_at=f.since,
            ends_at=now if status == "resolved" else None,
        )
        _, kinds = await uow.alerts.receive(received, now=now)
        queued += len(kinds) * channels
    return queued


def _fingerprint(f: Finding) -> str:
    return hashlib.sha256(f"inspection\0{f.cluster}\0{f.check}".encode()).hexdigest()[:32]


# --- Gathering --------------------------------------------------------------------------------------


async def gather_cluster(platform: Platform, cluster: Cluster) -> ClusterFacts:
    """A cluster's facts: its control plane through the port, the rest from the watch caches."""
    if platform.control_plane is not None:
        control = await platform.control_plane.control_plane(cluster)
    else:
        control = ControlPlane(ready=False, ready_detail="control planes are not inspected by this server")
    capacity = platform.live.capacity(cluster.name)
    nodes = None
    if capacity.synced:
        used = capacity.usage.used
        nodes = []
        for n in capacity.nodes:
            cpu, memory, pods = used(n.name)
            nodes.append(
                NodeFacts(
                    name=n.name,
                    ready=n.ready,
                    unschedulable=n.unschedulable,
                    problems=tuple(ProblemCondition(*p) for p in n.problems),
                    kubelet=n.kubelet,
                    cpu_millis=n.cpu_millis,
                    memory=n.memory,
                    pods=n.pods,
                    cpu_requested=cpu,
                    memory_requested=memory,
                    pods_requested=pods,
                    images=n.images,
                    ephemeral=n.ephemeral,
                )
            )
    terminating = tuple(f"{p.namespace}/{p.name}" for p in platform.live.instances(cluster.name) if p.deleting)
    return ClusterFacts(
        cluster=cluster.name,
        control=control,
        nodes=tuple(nodes) if nodes is not None else None,
        terminating=terminating,
        watched=platform.live.connection(cluster.name).connected,
    )


async def gather_dockyard(platform: Platform, *, now: dt.datetime) -> DockyardFacts:
    """Dockyard's own facts: watch lag, running operations, queued builds, the audit chain, the
    database's size and Prometheus' targets."""
    details: dict[str, str] = {}
    watches = tuple(Watch(w.cluster, w.connected, w.silence) for w in platform.live.watch_health())
    operations: tuple[PendingWork, ...] | None = None
    builds: tuple[PendingWork, ...] | None = None
    size: int | None = None
    try:
        async with platform.db.unit_of_work() as uow:
            unfinished = await uow.operations.unfinished()
            queued = await uow.builds.unfinished()
            size = await uow.inspections.database_bytes()
        operations = tuple(
            PendingWork(o.id, o.action, (now - o.started_at).total_seconds())
            for o in unfinished
            if o.started_at is not None and o.action != "release"  # a release waits for people
        )
        builds = tuple(
            PendingWork(b.id, f"{b.system}/{b.app}", (now - b.created_at).total_seconds() if b.created_at else 0.0)
            for b in queued
            if b.status == "queued"
        )
    except (DomainError, Failure) as e:
        details["operations"] = details["builds"] = details["database"] = str(e)
    audit_ok: bool | None = None
    try:
        verified = await audit.verify(platform, INSPECTOR)
        audit_ok = verified.ok
        audit_detail = f"{verified.checked} entries" if verified.ok else f"breaks at {verified.first_bad}"
    except (DomainError, Failure) as e:
        audit_detail = str(e)
    targets: tuple[Target, ...] | None = None
    if platform.metrics is None:
        details["targets"] = "Prometheus is not configured"
    else:
        try:
            targets = tuple(Target(t.job, t.up, t.url, t.error) for t in await platform.metrics.targets())
        except Failure as e:
            details["targets"] = f"Prometheus does not answer: {e}"
    return DockyardFacts(
        watches=watches,
        operations=operations,
        builds=builds,
        audit_ok=audit_ok,
        audit_detail=audit_detail,
        database_bytes=size,
        targets=targets,
        details=details,
    )
