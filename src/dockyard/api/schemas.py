"""Request and response bodies of the REST API (``/api/v1``).

Request bodies forbid unknown fields: a field that is not meant to be set (an owner, a namespace, a
version's number) is refused with 422 instead of being ignored or, worse, taken. A version's ``spec``
is checked by the domain, whose errors name the exact path (``spec.ports[1].port``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StrictInt

from dockyard.domain.audit import AuditEntry, Verification
from dockyard.domain.capacity import Amount, ClusterSummary
from dockyard.domain.live import PodRecord
from dockyard.domain.location import Grant
from dockyard.domain.model import Application, Dedication, Group, Operation, System, Version
from dockyard.domain.placement import DEDICATED_LABEL, dedicated_value


class In(BaseModel):
    """A request body: unknown fields are refused, and so are ``true`` or ``"3"`` for a number."""

    model_config = ConfigDict(extra="forbid", strict=True)


SPEC_DOC = (
    "A version spec: image, flavor, instances, ports [{name, port, protocol}], env {NAME: value}, "
    "secret_env {NAME: value} (stored sealed, shown as <secret:...>), config_files {relative/path: content}, "
    "readiness/liveness {port, path, initial_delay_seconds, period_seconds}, pre_stop [command...], "
    "termination_grace_seconds, security (restricted | baseline), run_as_user."
)


# inputs ------------------------------------------------------------------------------------------
class QuotaIn(In):
    cpu_millis: StrictInt = Field(default=0, ge=0, le=10**9)
    memory_mib: StrictInt = Field(default=0, ge=0, le=10**9)


class SystemIn(In):
    name: str
    description: str = ""
    quota: QuotaIn = Field(default_factory=QuotaIn)


class ApplicationIn(In):
    name: str
    repository: str
    business_id: str = ""
    owners: list[str] = Field(default_factory=list)
    location: dict[str, Any] | None = Field(
        default=None, description="default location of its groups: {idc, provider, region, clusters}"
    )


class LocationIn(In):
    location: dict[str, Any] | None = Field(description="{idc, provider, region, clusters}; null: none")


class GrantIn(In):
    location: dict[str, Any] = Field(description="the location asked for: {idc, provider, region, clusters}")
    reason: str = ""


class GrantOut(BaseModel):
    id: int
    system: str
    location: dict[str, Any]
    status: str = Field(description="requested | approved | revoked")
    reason: str
    requested_by: str
    decided_by: str

    @classmethod
    def of(cls, g: Grant) -> GrantOut:
        return cls(
            id=g.id,
            system=g.system,
            location=g.location.to_data(),
            status=g.status,
            reason=g.reason,
            requested_by=g.requested_by,
            decided_by=g.decided_by,
        )


class GroupIn(In):
    name: str
    environment: str
    cluster: str


class VersionIn(In):
    spec: dict[str, Any] | None = Field(default=None, description=SPEC_DOC)
    changes: dict[str, Any] | None = Field(default=None, description="changes to the latest version's spec")
    reason: str = ""


class PreviewIn(VersionIn):
    version: int | None = Field(default=None, ge=1, description="an existing version; or give spec or changes")


class DeployIn(PreviewIn):
    deadline_seconds: int = Field(default=300, ge=5, le=3600)
    force: bool = Field(default=False, description="deploy even when the preview says some instances would not fit")


class ScaleIn(In):
    instances: int = Field(ge=0, le=500)
    deadline_seconds: int = Field(default=300, ge=5, le=3600)
    force: bool = Field(default=False, description="scale out even when some instances would not fit")


class RollbackIn(In):
    version: int = Field(ge=1)
    deadline_seconds: int = Field(default=300, ge=5, le=3600)


class ReconcileIn(In):
    deadline_seconds: int = Field(default=300, ge=5, le=3600)


class ClusterIn(In):
    name: str
    kubeconfig: str = Field(
        description="a kubeconfig's content (YAML) with its credentials embedded (no file references, no exec "
        "plugin), or `in-cluster`; stored sealed, reduced to its current context, and never returned"
    )
    labels: dict[str, str] = Field(default_factory=dict)


class UserIn(In):
    name: str
    admin: bool = False
    password: SecretStr | None = Field(default=None, description="optional; 12+ characters, not a known default")


class TokenIn(In):
    name: str
    expires_in_days: int | None = Field(default=90, ge=1, le=3650)


# outputs -----------------------------------------------------------------------------------------
class QuotaOut(BaseModel):
    cpu_millis: int
    memory_mib: int


class SystemOut(BaseModel):
    name: str
    description: str
    quota: QuotaOut

    @classmethod
    def of(cls, s: System) -> SystemOut:
        return cls(name=s.name, description=s.description, quota=QuotaOut(**vars(s.quota)))


class ApplicationOut(BaseModel):
    system: str
    name: str
    repository: str
    business_id: str
    owners: list[str]
    location: dict[str, Any] | None = None

    @classmethod
    def of(cls, a: Application) -> ApplicationOut:
        return cls(
            system=a.system,
            name=a.name,
            repository=a.repository,
            business_id=a.business_id,
            owners=list(a.owners),
            location=a.location.to_data() if a.location else None,
        )


class DriftOut(BaseModel):
    field: str
    expected: Any
    live: Any


class GroupStatusOut(BaseModel):
    state: str = Field(description="not-deployed | progressing | healthy | degraded | drifted | unknown")
    ready: int
    instances: int
    wanted: int
    stale: bool = Field(description="the cluster's watch is disconnected: the last known state is shown")
    drift: list[DriftOut] = Field(default_factory=list)
    operation: str | None = Field(default=None, description="id of the unfinished operation, if any")
    clusters: list[ClusterStateOut] = Field(default_factory=list, description="the group on each of its clusters")


class ClusterStateOut(BaseModel):
    cluster: str
    state: str = Field(description="as the group's state, or unreachable while the cluster is away")
    version: int | None = Field(description="the version the group runs there")
    wanted: int
    ready: int
    instances: int
    connected: bool


class GroupClusterOut(BaseModel):
    cluster: str
    instances: int
    version: int | None


class GroupOut(BaseModel):
    system: str
    app: str
    name: str
    environment: str
    cluster: str
    current_version: int | None
    latest_version: int
    clusters: list[GroupClusterOut] = Field(
        default_factory=list, description="where it runs: instances and version per cluster (empty before a deploy)"
    )
    status: GroupStatusOut | None = None

    @classmethod
    def of(cls, g: Group, status: GroupStatusOut | None = None) -> GroupOut:
        return cls(
            system=g.system,
            app=g.app,
            name=g.name,
            environment=g.environment,
            cluster=g.cluster,
            current_version=g.current_version,
            latest_version=g.latest_version,
            clusters=[GroupClusterOut(cluster=c.cluster, instances=c.instances, version=c.version) for c in g.clusters],
            status=status,
        )


class VersionOut(BaseModel):
    number: int
    spec: dict[str, Any] = Field(description="the version's spec; secret env values as <secret:FINGERPRINT-PREFIX>")
    created_by: str
    created_at: dt.datetime
    reason: str

    @classmethod
    def of(cls, v: Version) -> VersionOut:
        return cls(
            number=v.number, spec=v.spec.masked(), created_by=v.created_by, created_at=v.created_at, reason=v.reason
        )


class DiffOut(BaseModel):
    old: int
    new: int
    changes: list[DriftOut]


class InstanceOut(BaseModel):
    name: str
    phase: str
    ready: bool
    restarts: int
    pod_ip: str
    host_ip: str
    node: str
    version: str
    created_at: dt.datetime | None
    age_seconds: int
    reason: str
    deleting: bool
    cluster: str = ""

    @classmethod
    def of(cls, p: PodRecord, now: float, *, cluster: str = "") -> InstanceOut:
        return cls(
            cluster=cluster,
            name=p.name,
            phase=p.phase,
            ready=p.ready,
            restarts=p.restarts,
            pod_ip=p.pod_ip,
            host_ip=p.host_ip,
            node=p.node,
            version=p.version,
            created_at=dt.datetime.fromtimestamp(p.created, dt.UTC) if p.created else None,
            age_seconds=max(0, int(now - p.created)) if p.created else 0,
            reason=p.reason,
            deleting=p.deleting,
        )


class InstancesOut(BaseModel):
    stale: bool
    items: list[InstanceOut]


class OperationOut(BaseModel):
    id: str
    action: str
    actor: str
    system: str
    app: str
    group: str
    params: dict[str, Any]
    status: str
    error: str
    started_at: dt.datetime | None
    finished_at: dt.datetime | None

    @classmethod
    def of(cls, o: Operation) -> OperationOut:
        return cls(**vars(o))


class ClusterOut(BaseModel):
    name: str
    labels: dict[str, str]
    connected: bool = Field(description="its watch caches are connected")
    detail: str = ""


class UserOut(BaseModel):
    name: str
    admin: bool


class AppRoleOut(BaseModel):
    system: str
    app: str
    role: str


class MeOut(UserOut):
    roles: dict[str, str] = Field(description="the caller's role per system")
    app_roles: list[AppRoleOut] = Field(description="roles in one application only")


class TokenOut(BaseModel):
    id: str
    name: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked: bool


class NewTokenOut(TokenOut):
    token: str = Field(description="the token itself: shown this once, never again")


# audit -------------------------------------------------------------------------------------------
class AuditEntryOut(BaseModel):
    """One entry of the audit trail. ``changes`` names the body's fields (``spec.image``) and holds
    values only for harmless ones (names, image, flavor, replicas…); never secrets."""

    seq: int = Field(description="1, 2, 3… without gaps")
    at: dt.datetime
    actor: str = Field(description="the user; '' when unauthenticated")
    source_ip: str = Field(description="the peer's address (a proxy's X-Forwarded-For is not trusted)")
    request_id: str = Field(description="the X-Request-ID the response carried")
    method: str
    action: str = Field(description="the route's name (create_group), or the path when none matched")
    target: dict[str, str] = Field(description="the path's parameters: system, app, group…")
    system: str = Field(description="'' for platform-wide actions")
    outcome: Literal["allowed", "denied", "error"]
    status: int
    reason: str = Field(description="why it was denied or failed")
    changes: dict[str, Any] = Field(description="{fields: [paths], values: {path: value}}; {} without a body")
    prev_hash: str
    hash: str = Field(description="SHA-256 of the entry's canonical JSON with seq and prev_hash")

    @classmethod
    def of(cls, e: AuditEntry) -> AuditEntryOut:
        r = e.record
        return cls(
            seq=e.seq,
            at=r.at,
            actor=r.actor,
            source_ip=r.source_ip,
            request_id=r.request_id,
            method=r.method,
            action=r.action,
            target=dict(r.target),
            system=r.system,
            outcome=r.outcome,
            status=r.status,
            reason=r.reason,
            changes=dict(r.changes),
            prev_hash=e.prev_hash,
            hash=e.hash,
        )


class AuditPageOut(BaseModel):
    items: list[AuditEntryOut] = Field(description="newest first")
    next_cursor: int | None = Field(description="pass as cursor for the next (older) page; null at the end")


class AuditBreakOut(BaseModel):
    seq: int = Field(description="the first entry where the chain does not hold")
    reason: str


class AuditHeadOut(BaseModel):
    seq: int
    hash: str


class AuditVerifyOut(BaseModel):
    ok: bool
    checked: int = Field(description="entries found intact before the first break (all of them when ok)")
    first_bad: AuditBreakOut | None
    head: AuditHeadOut | None = Field(
        description="the last entry's seq and hash: keep a copy elsewhere to detect a rewritten trail"
    )

    @classmethod
    def of(cls, v: Verification) -> AuditVerifyOut:
        return cls(
            ok=v.ok,
            checked=v.checked,
            first_bad=AuditBreakOut(seq=v.first_bad.seq, reason=v.first_bad.reason) if v.first_bad else None,
            head=AuditHeadOut(seq=v.head.seq, hash=v.head.hash) if v.head else None,
        )


class AmountOut(BaseModel):
    cpu_millis: int
    memory_mib: int

    @classmethod
    def of(cls, a: Amount) -> AmountOut:
        return cls(cpu_millis=a.cpu_millis, memory_mib=a.memory_mib)


class NodeCountsOut(BaseModel):
    ready: int
    not_ready: int


class PoolStatusOut(BaseModel):
    pool: str
    cpu_model: str
    nodes: int
    ready: int
    allocatable: AmountOut
    requested: AmountOut


class ClusterStatusOut(BaseModel):
    """A cluster's capacity from Dockyard's watch caches: nodes, pods (``pending``: not yet on a node),
    allocatable against requested CPU and memory, in all and per pool and CPU model."""

    cluster: str
    connected: bool
    nodes: NodeCountsOut
    pods: int
    pending: int
    allocatable: AmountOut
    requested: AmountOut
    pools: list[PoolStatusOut]

    @classmethod
    def of(cls, name: str, connected: bool, s: ClusterSummary) -> ClusterStatusOut:
        pools = [
            PoolStatusOut(
                pool=p.pool,
                cpu_model=p.cpu_model,
                nodes=p.nodes,
                ready=p.ready,
                allocatable=AmountOut.of(p.allocatable),
                requested=AmountOut.of(p.requested),
            )
            for p in s.pools
        ]
        return cls(
            cluster=name,
            connected=connected,
            nodes=NodeCountsOut(ready=s.ready, not_ready=s.not_ready),
            pods=s.pods,
            pending=s.pending,
            allocatable=AmountOut.of(s.allocatable),
            requested=AmountOut.of(s.requested),
            pools=pools,
        )


class ClusterFitOut(BaseModel):
    cluster: str
    connected: bool = Field(description="false: the caches are not synced, the numbers are not to be trusted")
    wanted: int
    fits: int
    pending: int
    nodes: dict[str, int] = Field(description="where the instances that fit would land: node → instances")
    message: str = Field(description="the scheduler's message for the instances that do not fit, empty if all fit")
    reasons: dict[str, int] = Field(description="reason → number of nodes, as counted in the message")
    preempted: int = Field(description="lower-priority pods the instances would preempt")


class PreviewOut(BaseModel):
    wanted: int
    fits: int
    pending: int
    clusters: list[ClusterFitOut]


class DedicationIn(In):
    system: str
    app: str


class DedicationOut(BaseModel):
    cluster: str
    pool: str
    system: str
    app: str
    by: str
    taint: str = Field(
        description="the taint (and label) on the pool's nodes: dockyard.io/dedicated=<value>:NoSchedule"
    )

    @classmethod
    def of(cls, d: Dedication) -> DedicationOut:
        taint = f"{DEDICATED_LABEL}={dedicated_value(d.system, d.app)}:NoSchedule"
        return cls(cluster=d.cluster, pool=d.pool, system=d.system, app=d.app, by=d.by, taint=taint)
