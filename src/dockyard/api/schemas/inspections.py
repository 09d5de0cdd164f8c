"""Bodies of the inspection endpoints."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from dockyard.api.schemas.common import In
from dockyard.domain.inspection import Change, Finding, Run
from dockyard.domain.inspection_schedule import DEFAULT_CRON, DEFAULT_TIMEZONE, Schedule
from dockyard.domain.remediation import Plan, Policy, Record


class FindingOut(BaseModel):
    cluster: str = Field(description="the cluster, or (dockyard) for Dockyard's own checks")
    check: str
    result: str = Field(description="ok | warning | failed")
    summary: str
    evidence: dict[str, Any]
    since: dt.datetime | None = Field(description="failed checks: when the check began failing")

    @classmethod
    def of(cls, f: Finding) -> FindingOut:
        return cls(
            cluster=f.cluster, check=f.check, result=f.result, summary=f.summary, evidence=f.evidence, since=f.since
        )


class ChangeOut(BaseModel):
    cluster: str
    check: str
    before: str | None = Field(description="the older run's result (null: not checked there)")
    after: str | None = Field(description="the newer run's result (null: not checked there)")
    summary: str

    @classmethod
    def of(cls, c: Change) -> ChangeOut:
        return cls(cluster=c.cluster, check=c.check, before=c.before, after=c.after, summary=c.summary)


class RunOut(BaseModel):
    id: int
    trigger: str = Field(description="schedule | manual")
    requested_by: str
    clusters: list[str] = Field(description="the clusters asked for ([]: all, and Dockyard itself)")
    status: str = Field(description="running | done | failed")
    result: str = Field(description="the worst finding's result: ok | warning | failed")
    counts: dict[str, int]
    started_at: dt.datetime
    finished_at: dt.datetime | None
    previous_id: int | None = Field(description="the run its changes are against")
    error: str
    findings: list[FindingOut] = Field(default_factory=list, description="empty in lists")
    changes: list[ChangeOut] = Field(default_factory=list, description="what changed since the previous run")

    @classmethod
    def of(cls, r: Run) -> RunOut:
        return cls(
            id=r.id,
            trigger=r.trigger,
            requested_by=r.requested_by,
            clusters=r.clusters,
            status=r.status,
            result=r.result,
            counts=r.counts,
            started_at=r.started_at,
            finished_at=r.finished_at,
            previous_id=r.previous_id,
            error=r.error,
            findings=[FindingOut.of(f) for f in r.findings],
            changes=[ChangeOut.of(c) for c in r.changes],
        )


class DiffOut(BaseModel):
    run: int
    against: int | None = Field(description="the older run (null: none to compare with)")
    changes: list[ChangeOut]


class RunIn(In):
    clusters: list[str] = Field(default_factory=list, description="only these clusters (none: everything)")


class ScheduleIn(In):
    cron: str = Field(default=DEFAULT_CRON, description="5 fields: minute hour day month weekday")
    timezone: str = Field(default=DEFAULT_TIMEZONE, description="an IANA time zone, e.g. Asia/Shanghai")
    enabled: bool = True
    notify_system: str = Field(default="", description="the system whose channels are told of failed checks")


class ScheduleOut(BaseModel):
    cron: str
    timezone: str
    enabled: bool
    notify_system: str
    next_at: dt.datetime | None
    changed_by: str
    changed_at: dt.datetime | None

    @classmethod
    def of(cls, s: Schedule) -> ScheduleOut:
        return cls(
            cron=s.cron,
            timezone=s.timezone,
            enabled=s.enabled,
            notify_system=s.notify_system,
            next_at=s.next_at,
            changed_by=s.changed_by,
            changed_at=s.changed_at,
        )


class PolicyIn(In):
    mode: str = Field(default="off", description="off | dry-run (record what would be done) | on")
    paused: bool = Field(default=False, description="the platform-wide pause switch: nothing is taken nor given back")
    max_share: float = Field(default=0.49, description="at most this share of a pool taken at once (at least 1 node)")
    quiet_seconds: float = Field(
        default=300.0, description="how long a problem stays clear before the node is given back"
    )


class PolicyOut(BaseModel):
    mode: str
    paused: bool
    max_share: float
    quiet_seconds: float
    changed_by: str

    @classmethod
    def of(cls, p: Policy) -> PolicyOut:
        return cls(
            mode=p.mode, paused=p.paused, max_share=p.max_share, quiet_seconds=p.quiet_seconds, changed_by=p.changed_by
        )


class PlannedOut(BaseModel):
    node: str
    kind: str = Field(description="take (cordon and taint) | give-back")
    reason: str


class HeldOut(BaseModel):
    node: str
    problem: str
    why: str


class PlanOut(BaseModel):
    cluster: str
    actions: list[PlannedOut]
    held: list[HeldOut]

    @classmethod
    def of(cls, cluster: str, p: Plan) -> PlanOut:
        return cls(
            cluster=cluster,
            actions=[PlannedOut(node=a.node, kind=a.kind, reason=a.reason) for a in p.actions],
            held=[HeldOut(node=h.node, problem=h.problem, why=h.why) for h in p.held],
        )


class RecordOut(BaseModel):
    id: int
    cluster: str
    node: str
    kind: str = Field(description="take | give-back | held")
    reason: str
    mode: str
    outcome: str
    at: dt.datetime

    @classmethod
    def of(cls, r: Record) -> RecordOut:
        return cls(
            id=r.id,
            cluster=r.cluster,
            node=r.node,
            kind=r.kind,
            reason=r.reason,
            mode=r.mode,
            outcome=r.outcome,
            at=r.at,
        )
