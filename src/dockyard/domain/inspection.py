"""Inspection: what is gathered of each cluster and of Dockyard itself, the checks over it, and the
difference between two runs. Pure: no I/O; the gathering is services/inspection.py's, through ports.

- Facts: :class:`ClusterFacts` (control plane, nodes from the capacity watch caches, instances being
  deleted) and :class:`DockyardFacts` (watch lag, unfinished operations and queued builds, the audit
  chain, the database's size, Prometheus' targets). A fact that could not be read is ``None`` with a
  ``*_detail`` saying why: a check reports it, it never raises.
- Checks: each a pure function of the facts and the :class:`Limits`, answering one :class:`Finding`
  (``ok`` / ``warning`` / ``failed``, a one-line summary, the evidence as plain JSON data). The
  cluster checks are :data:`CLUSTER_CHECKS`, Dockyard's :data:`DOCKYARD_CHECKS`; :func:`inspect` runs
  them all.
- :func:`carry` keeps, for a check still failing, when it began failing (``since``): what a failure
  is notified as (one alert episode per failure, told once however many runs see it).
- :func:`diff` says what changed between two runs' findings.

Node conditions: the kubelet's own (``Ready``, ``MemoryPressure``, ``DiskPressure``, ``PIDPressure``,
``NetworkUnavailable``) are the *nodes* and *pressure* checks'; every other condition whose status is
``True`` is a problem reported by node-problem-detector (``KernelDeadlock``, ``ReadonlyFilesystem``,
``XfsShutdown``, ``FrequentKubeletRestart``… or a custom plugin's) and is the *kernel* check's.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

Result = Literal["ok", "warning", "failed"]
RESULTS: tuple[Result, ...] = ("ok", "warning", "failed")
DOCKYARD = "(dockyard)"  # the "cluster" of Dockyard's own checks
KUBELET_CONDITIONS = frozenset({"Ready", "MemoryPressure", "DiskPressure", "PIDPressure", "NetworkUnavailable"})
PRESSURE = ("MemoryPressure", "DiskPressure", "PIDPressure", "NetworkUnavailable")
MAX_LISTED = 20  # names listed in one finding's evidence (the count is always whole)
_VERSION = re.compile(r"v?(\d+)\.(\d+)(?:\.(\d+))?")


# --- Facts ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Condition:
    """A node condition that is a problem: ``Ready`` not ``True``, or any other one ``True``."""

    type: str
    reason: str = ""
    message: str = ""


@dataclass(frozen=True)
class NodeFacts:
    """A node as the capacity watch cache holds it, with what its pods request."""

    name: str
    ready: bool
    unschedulable: bool = False
    problems: tuple[Condition, ...] = ()
    kubelet: str = ""  # nodeInfo.kubeletVersion ("" unknown)
    cpu_millis: int = 0  # allocatable
    memory: int = 0
    pods: int = 0
    cpu_requested: int = 0
    memory_requested: int = 0
    pods_requested: int = 0
    images: int = 0  # bytes of the images the kubelet reports (status.images)
    ephemeral: int = 0  # allocatable ephemeral-storage, bytes (0: not reported)


@dataclass(frozen=True)
class Component:
    """A control-plane component's health as the apiserver tells it: by ``componentstatuses``
    (``healthy``, ``message``: the apiserver's probe of the component's *default* port on its own
    host), and for a leader-elected one by its Lease in kube-system (``lease_age``: seconds since its
    last renewal, ``lease_seconds``: its duration), which holds wherever the component listens."""

    name: str
    healthy: bool
    message: str = ""
    lease_age: float | None = None
    lease_seconds: float | None = None

    @property
    def renewing(self) -> bool | None:
        """Whether its leader lease is being renewed (None: it has none)."""
        if self.lease_age is None:
            return None
        return self.lease_age <= 2 * (self.lease_seconds or 15.0)


@dataclass(frozen=True)
class ControlPlane:
    """What the apiserver tells of the control plane; ``None`` fields could not be read (``details``
    says why, by fact)."""

    ready: bool
    ready_detail: str = ""
    failing_readyz: tuple[str, ...] = ()  # /readyz?verbose checks not ok (e.g. "etcd")
    version: str = ""  # the apiserver's gitVersion
    components: tuple[Component, ...] | None = None
    etcd_db_bytes: float | None = None
    etcd_leader: bool | None = None
    cert_not_after: dt.datetime | None = None
    metrics_api: bool | None = None  # the metrics.k8s.io APIService Available (None: not registered)
    details: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ClusterFacts:
    cluster: str
    control: ControlPlane
    nodes: tuple[NodeFacts, ...] | None  # None: the capacity caches have not listed yet
    terminating: tuple[str, ...] = ()  # instances (namespace/name) being deleted
    watched: bool = True  # the watch caches are connected


@dataclass(frozen=True)
class Target:
    job: str
    up: bool
    url: str = ""
    error: str = ""


@dataclass(frozen=True)
class Watch:
    cluster: str
    connected: bool
    silence: float  # seconds since the cluster's watches last heard anything


@dataclass(frozen=True)
class PendingWork:
    """An unfinished operation or a queued build: its id, what it is, and how long it has waited or run."""

    id: str
    what: str
    seconds: float


@dataclass(frozen=True)
class DockyardFacts:
    watches: tuple[Watch, ...] = ()
    operations: tuple[PendingWork, ...] | None = ()  # running ones, with seconds since they started
    builds: tuple[PendingWork, ...] | None = ()  # queued ones, with seconds since they were queued
    audit_ok: bool | None = None
    audit_detail: str = ""
    database_bytes: int | None = None
    targets: tuple[Target, ...] | None = None  # None: Prometheus not configured or not answering
    details: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Limits:
    """Thresholds of the checks (defaults; a platform may set its own)."""

    cert_warning_days: float = 30.0
    cert_failed_days: float = 7.0
    etcd_db_warning_bytes: float = 2 * 1024**3
    etcd_db_failed_bytes: float = 6 * 1024**3  # etcd's default quota is 2 GiB, its recommended most 8
    requested_warning: float = 0.85  # share of a node's allocatable requested
    requested_failed: float = 1.0
    # Images' share of a node's allocatable ephemeral-storage; the kubelet's image garbage collection
    # starts at 85 % of the image filesystem (imageGCHighThresholdPercent), evictions soon after.
    images_warning: float = 0.70
    images_failed: float = 0.85
    kubelet_minor_skew: int = 3  # a kubelet may be this many minors older than the apiserver
    watch_lag_warning: float = 120.0
    watch_lag_failed: float = 600.0
    operation_stuck_seconds: float = 1800.0
    build_queue_warning: int = 20
    build_wait_warning: float = 900.0
    database_warning_bytes: int = 10 * 1024**3


# --- Findings ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One check's result on one cluster (or :data:`DOCKYARD`); ``since``: when it began failing."""

    check: str
    cluster: str
    result: Result
    summary: str
    evidence: dict[str, Any] = field(default_factory=dict)
    since: dt.datetime | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.cluster, self.check)

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "cluster": self.cluster,
            "result": self.result,
            "summary": self.summary,
            "evidence": self.evidence,
            "since": self.since.isoformat() if self.since else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Finding:
        since = data.get("since")
        return cls(
            check=str(data["check"]),
            cluster=str(data["cluster"]),
            result=data["result"],
            summary=str(data.get("summary", "")),
            evidence=dict(data.get("evidence") or {}),
            since=dt.datetime.fromisoformat(since) if since else None,
        )


def _finding(check: str, cluster: str, result: Result, summary: str, **evidence: Any) -> Finding:
    return Finding(check, cluster, result, summary, evidence)


def _worst(results: Iterable[Result]) -> Result:
    return max(results, key=RESULTS.index, default="ok")


def _names(items: Sequence[str]) -> list[str]:
    return list(items[:MAX_LISTED])


# --- Cluster checks ---------------------------------------------------------------------------------


def check_apiserver(facts: ClusterFacts, limits: Limits) -> Finding:
    c = facts.control
    if not c.ready:
        return _finding(
            "apiserver", facts.cluster, "failed", f"the apiserver is not ready: {c.ready_detail}", detail=c.ready_detail
        )
    if c.failing_readyz:
        return _finding(
            "apiserver",
            facts.cluster,
            "warning",
            "the apiserver is ready but these checks fail: " + ", ".join(c.failing_readyz),
            failing=list(c.failing_readyz),
            version=c.version,
        )
    return _finding(
        "apiserver", facts.cluster, "ok", f"/readyz ok ({c.version or 'version unknown'})", version=c.version
    )


def check_etcd(facts: ClusterFacts, limits: Limits) -> Finding:
    c = facts.control
    name = "etcd"
    if not c.ready:
        return _finding(name, facts.cluster, "failed", "unknown: the apiserver is not ready", detail=c.ready_detail)
    evidence: dict[str, Any] = {"db_bytes": c.etcd_db_bytes, "leader": c.etcd_leader}
    unknown = [f"{k}: {c.details[k]}" for k in ("etcd_db_bytes", "etcd_leader") if k in c.details]
    if unknown:
        evidence["unknown"] = unknown
    etcd = [x for x in (c.components or ()) if x.name.startswith("etcd")]
    bad = [x for x in etcd if not x.healthy]
    if "etcd" in c.failing_readyz or bad:
        messages = [f"{x.name}: {x.message}" for x in bad] or ["/readyz/etcd fails"]
        return Finding(name, facts.cluster, "failed", "etcd is unhealthy: " + "; ".join(messages), evidence)
    if c.etcd_leader is False:
        return Finding(name, facts.cluster, "failed", "etcd has no leader", evidence)
    size = c.etcd_db_bytes
    if size is not None and size >= limits.etcd_db_failed_bytes:
        return Finding(name, facts.cluster, "failed", f"etcd's database is {_gib(size)}", evidence)
    if size is not None and size >= limits.etcd_db_warning_bytes:
        return Finding(name, facts.cluster, "warning", f"etcd's database is {_gib(size)}", evidence)
    sized = f", database {_gib(size)}" if size is not None else ""
    return Finding(name, facts.cluster, "ok", f"etcd healthy{sized}", evidence)


def check_components(facts: ClusterFacts, limits: Limits) -> Finding:
    """The controller-manager and the scheduler: a leader lease being renewed is healthy, one not
    renewed failed; without a lease, ``componentstatuses`` decides, but its probe of the default
    port can only warn (the component may listen on another port: the apiserver cannot tell)."""
    c = facts.control
    name = "controller-manager-scheduler"
    if c.components is None:
        detail = c.details.get("components", "not read")
        result: Result = "failed" if not c.ready else "warning"
        return _finding(name, facts.cluster, result, f"unknown: {detail}", detail=detail)
    wanted = ("controller-manager", "scheduler")
    seen = {x.name: x for x in c.components}
    missing = [w for w in wanted if w not in seen]
    stale = [seen[w] for w in wanted if w in seen and seen[w].renewing is False]
    probed = [seen[w] for w in wanted if w in seen and seen[w].renewing is None and not seen[w].healthy]
    evidence = {
        "components": {
            x.name: {"healthy": x.healthy, "message": x.message, "lease_age": x.lease_age} for x in c.components
        }
    }
    if stale:
        return Finding(
            name,
            facts.cluster,
            "failed",
            "leader lease not renewed: " + "; ".join(f"{x.name} ({x.lease_age:.0f}s ago)" for x in stale),
            evidence,
        )
    if probed:
        return Finding(
            name,
            facts.cluster,
            "warning",
            "no leader lease, and the apiserver's probe of the default "
            "port fails: " + "; ".join(f"{x.name}: {x.message}" for x in probed),
            evidence,
        )
    if missing:
        return Finding(name, facts.cluster, "warning", "not reported: " + ", ".join(missing), evidence)
    return Finding(name, facts.cluster, "ok", "controller-manager and scheduler healthy", evidence)


def check_certificates(facts: ClusterFacts, limits: Limits, *, now: dt.datetime) -> Finding:
    c = facts.control
    name = "certificates"
    if c.cert_not_after is None:
        detail = c.details.get("cert_not_after", "not read")
        return _finding(
            name, facts.cluster, "warning", f"the apiserver's certificate: unknown ({detail})", detail=detail
        )
    days = (c.cert_not_after - now).total_seconds() / 86400
    evidence = {"not_after": c.cert_not_after.isoformat(), "days_left": round(days, 1)}
    if days <= limits.cert_failed_days:
        return Finding(
            name, facts.cluster, "failed", f"the apiserver's certificate expires in {days:.1f} days", evidence
        )
    if days <= limits.cert_warning_days:
        return Finding(
            name, facts.cluster, "warning", f"the apiserver's certificate expires in {days:.0f} days", evidence
        )
    return Finding(name, facts.cluster, "ok", f"the apiserver's certificate has {days:.0f} days left", evidence)


def check_metrics_api(facts: ClusterFacts, limits: Limits) -> Finding:
    c = facts.control
    name = "metrics-api"
    detail = c.details.get("metrics_api", "")
    if c.metrics_api is None:
        return _finding(
            name, facts.cluster, "warning", f"metrics.k8s.io is not served ({detail or 'unknown'})", detail=detail
        )
    if not c.metrics_api:
        return _finding(name, facts.cluster, "failed", f"metrics.k8s.io is not available: {detail}", detail=detail)
    return _finding(name, facts.cluster, "ok", "metrics.k8s.io available")


def check_nodes(facts: ClusterFacts, limits: Limits) -> Finding:
    name = "nodes-ready"
    if facts.nodes is None:
        return _finding(name, facts.cluster, "failed", "the nodes are not known: the watch caches have not listed")
    not_ready = sorted(n.name for n in facts.nodes if not n.ready)
    cordoned = sorted(n.name for n in facts.nodes if n.unschedulable)
    evidence = {
        "nodes": len(facts.nodes),
        "not_ready": _names(not_ready),
        "not_ready_count": len(not_ready),
        "cordoned": _names(cordoned),
        "cordoned_count": len(cordoned),
    }
    if not facts.nodes:
        return Finding(name, facts.cluster, "warning", "the cluster has no node", evidence)
    if not_ready:
        return Finding(
            name, facts.cluster, "failed", f"{len(not_ready)} of {len(facts.nodes)} nodes not Ready", evidence
        )
    return Finding(name, facts.cluster, "ok", f"{len(facts.nodes)} nodes Ready ({len(cordoned)} cordoned)", evidence)


def check_pressure(facts: ClusterFacts, limits: Limits) -> Finding:
    name = "node-pressure"
    if facts.nodes is None:
        return _finding(name, facts.cluster, "warning", "unknown: the watch caches have not listed")
    by_type: dict[str, list[str]] = {}
    for n in facts.nodes:
        for p in n.problems:
            if p.type in PRESSURE:
                by_type.setdefault(p.type, []).append(n.name)
    if not by_type:
        return _finding(name, facts.cluster, "ok", "no node under pressure")
    evidence = {t: _names(sorted(ns)) for t, ns in sorted(by_type.items())}
    summary = ", ".join(f"{t} on {len(ns)}" for t, ns in sorted(by_type.items()))
    return Finding(name, facts.cluster, "warning", summary, evidence)


def check_kernel(facts: ClusterFacts, limits: Limits) -> Finding:
    """node-problem-detector's conditions (any condition not the kubelet's, with status True)."""
    name = "kernel"
    if facts.nodes is None:
        return _finding(name, facts.cluster, "warning", "unknown: the watch caches have not listed")
    problems: dict[str, list[dict[str, str]]] = {}
    for n in sorted(facts.nodes, key=lambda n: n.name):
        for p in n.problems:
            if p.type not in KUBELET_CONDITIONS:
                problems.setdefault(n.name, []).append({"type": p.type, "reason": p.reason, "message": p.message})
    if not problems:
        return _finding(name, facts.cluster, "ok", "no node reports a kernel or hardware problem")
    kinds = sorted({p["type"] for ps in problems.values() for p in ps})
    evidence = {"nodes": dict(list(problems.items())[:MAX_LISTED]), "node_count": len(problems)}
    return Finding(
        name,
        facts.cluster,
        "failed",
        f"{len(problems)} node(s) report {', '.join(kinds)}: {', '.join(_names(list(problems)))}",
        evidence,
    )


def check_kubelet_versions(facts: ClusterFacts, limits: Limits) -> Finding:
    name = "kubelet-skew"
    server = _minor(facts.control.version)
    if facts.nodes is None or server is None:
        return _finding(
            name,
            facts.cluster,
            "ok" if facts.nodes == () else "warning",
            "unknown: the apiserver's or the nodes' versions are not known",
        )
    newer, too_old, behind, unknown = [], [], [], []
    versions: dict[str, int] = {}
    for n in facts.nodes:
        versions[n.kubelet or "?"] = versions.get(n.kubelet or "?", 0) + 1
        minor = _minor(n.kubelet)
        if minor is None:
            unknown.append(n.name)
        elif minor > server:
            newer.append(n.name)
        elif server[1] - minor[1] > limits.kubelet_minor_skew or minor[0] != server[0]:
            too_old.append(n.name)
        elif minor < server:
            behind.append(n.name)
    evidence = {
        "apiserver": facts.control.version,
        "kubelets": versions,
        "newer": _names(sorted(newer)),
        "unsupported": _names(sorted(too_old)),
        "older": _names(sorted(behind)),
        "unknown_count": len(unknown),
    }
    if newer or too_old:
        return Finding(
            name,
            facts.cluster,
            "failed",
            f"{len(newer)} kubelet(s) newer than the apiserver, {len(too_old)} more than "
            f"{limits.kubelet_minor_skew} minors older",
            evidence,
        )
    if behind:
        return Finding(name, facts.cluster, "warning", f"{len(behind)} kubelet(s) older than the apiserver", evidence)
    return Finding(name, facts.cluster, "ok", "kubelets within the supported skew", evidence)


def check_requested(facts: ClusterFacts, limits: Limits) -> Finding:
    name = "allocatable"
    if facts.nodes is None:
        return _finding(name, facts.cluster, "warning", "unknown: the watch caches have not listed")
    worst: list[tuple[float, str, str]] = []
    totals = [0, 0, 0, 0]
    for n in facts.nodes:
        totals[0] += n.cpu_millis
        totals[1] += n.cpu_requested
        totals[2] += n.memory
        totals[3] += n.memory_requested
        for resource, have, asked in (
            ("cpu", n.cpu_millis, n.cpu_requested),
            ("memory", n.memory, n.memory_requested),
            ("pods", n.pods, n.pods_requested),
        ):
            if have > 0:
                worst.append((asked / have, n.name, resource))
            elif asked > 0:
                worst.append((float("inf"), n.name, resource))
    full = sorted((w for w in worst if w[0] >= limits.requested_failed), reverse=True)
    high = sorted((w for w in worst if limits.requested_warning <= w[0] < limits.requested_failed), reverse=True)
    evidence = {
        "cpu_requested_share": round(totals[1] / totals[0], 3) if totals[0] else None,
        "memory_requested_share": round(totals[3] / totals[2], 3) if totals[2] else None,
        "full": [f"{n}:{r}" for _, n, r in full[:MAX_LISTED]],
        "high": [f"{n}:{r}={s:.2f}" for s, n, r in high[:MAX_LISTED]],
    }
    if full:
        nodes = len({n for _, n, _ in full})
        return Finding(name, facts.cluster, "warning", f"{nodes} node(s) fully requested", evidence)
    if high:
        nodes = len({n for _, n, _ in high})
        return Finding(
            name, facts.cluster, "warning", f"{nodes} node(s) over {limits.requested_warning:.0%} requested", evidence
        )
    return Finding(name, facts.cluster, "ok", "every node has room", evidence)


def check_images(facts: ClusterFacts, limits: Limits) -> Finding:
    """Images near the disk's limit: the images a node's kubelet reports against its allocatable
    ephemeral-storage (the node's filesystem, which holds the images unless the runtime has a
    filesystem of its own). Nodes that report neither (KWOK's) are counted as not reporting."""
    name = "images-disk"
    if facts.nodes is None:
        return _finding(name, facts.cluster, "warning", "unknown: the watch caches have not listed")
    shares = sorted(((n.images / n.ephemeral, n.name) for n in facts.nodes if n.ephemeral > 0), reverse=True)
    silent = sum(1 for n in facts.nodes if n.ephemeral <= 0)
    failed = [(s, n) for s, n in shares if s >= limits.images_failed]
    high = [(s, n) for s, n in shares if limits.images_warning <= s < limits.images_failed]
    evidence = {
        "reporting": len(shares),
        "not_reporting": silent,
        "largest": [f"{n}={s:.2f}" for s, n in shares[:MAX_LISTED]],
    }
    if failed:
        return Finding(
            name,
            facts.cluster,
            "failed",
            f"{len(failed)} node(s) with images over {limits.images_failed:.0%} of their disk: "
            + ", ".join(n for _, n in failed[:MAX_LISTED]),
            evidence,
        )
    if high:
        return Finding(
            name,
            facts.cluster,
            "warning",
            f"{len(high)} node(s) with images over {limits.images_warning:.0%} of their disk: "
            + ", ".join(n for _, n in high[:MAX_LISTED]),
            evidence,
        )
    if not shares:
        return Finding(name, facts.cluster, "ok", "no node reports its disk (ephemeral-storage)", evidence)
    return Finding(name, facts.cluster, "ok", f"images below {limits.images_warning:.0%} of every disk", evidence)


def check_terminating(facts: ClusterFacts, limits: Limits) -> Finding:
    name = "terminating"
    if not facts.terminating:
        return _finding(name, facts.cluster, "ok", "no instance is being deleted")
    return _finding(
        name,
        facts.cluster,
        "warning",
        f"{len(facts.terminating)} instance(s) being deleted",
        instances=_names(sorted(facts.terminating)),
        count=len(facts.terminating),
    )


def check_watch(facts: ClusterFacts, limits: Limits) -> Finding:
    name = "watch"
    if not facts.watched:
        return _finding(name, facts.cluster, "failed", "Dockyard's watches of the cluster are not connected")
    return _finding(name, facts.cluster, "ok", "Dockyard's watches are connected")


ClusterCheck = Callable[[ClusterFacts, Limits], Finding]
CLUSTER_CHECKS: dict[str, ClusterCheck] = {
    "apiserver": check_apiserver,
    "etcd": check_etcd,
    "controller-manager-scheduler": check_components,
    "metrics-api": check_metrics_api,
    "nodes-ready": check_nodes,
    "node-pressure": check_pressure,
    "kernel": check_kernel,
    "kubelet-skew": check_kubelet_versions,
    "allocatable": check_requested,
    "images-disk": check_images,
    "terminating": check_terminating,
    "watch": check_watch,
}  # and "certificates" (needs the time: see :func:`inspect_cluster`)


# --- Dockyard's checks ------------------------------------------------------------------------------


def check_watch_lag(facts: DockyardFacts, limits: Limits) -> Finding:
    name = "watch-lag"
    lags = {w.cluster: (round(w.silence, 1) if w.silence != float("inf") else None) for w in facts.watches}
    down = sorted(w.cluster for w in facts.watches if not w.connected)
    failed = sorted(w.cluster for w in facts.watches if w.connected and w.silence >= limits.watch_lag_failed)
    slow = sorted(w.cluster for w in facts.watches if limits.watch_lag_warning <= w.silence < limits.watch_lag_failed)
    evidence = {"silence_seconds": lags, "disconnected": down}
    if down or failed:
        return Finding(
            name, DOCKYARD, "failed", "watches disconnected or silent: " + ", ".join(down + failed), evidence
        )
    if slow:
        return Finding(name, DOCKYARD, "warning", "watches quiet for long: " + ", ".join(slow), evidence)
    return Finding(name, DOCKYARD, "ok", f"{len(facts.watches)} cluster watch(es) live", evidence)


def check_operations(facts: DockyardFacts, limits: Limits) -> Finding:
    name = "operations"
    if facts.operations is None:
        return _finding(name, DOCKYARD, "warning", "unknown: " + facts.details.get("operations", "not read"))
    stuck = [o for o in facts.operations if o.seconds >= limits.operation_stuck_seconds]
    evidence = {
        "unfinished": len(facts.operations),
        "stuck": [f"{o.id} ({o.what}, {o.seconds:.0f}s)" for o in stuck[:MAX_LISTED]],
    }
    if stuck:
        return Finding(
            name,
            DOCKYARD,
            "warning",
            f"{len(stuck)} operation(s) running for over {limits.operation_stuck_seconds:.0f}s",
            evidence,
        )
    return Finding(name, DOCKYARD, "ok", f"{len(facts.operations)} unfinished operation(s), none stuck", evidence)


def check_builds(facts: DockyardFacts, limits: Limits) -> Finding:
    name = "build-queue"
    if facts.builds is None:
        return _finding(name, DOCKYARD, "warning", "unknown: " + facts.details.get("builds", "not read"))
    oldest = max((b.seconds for b in facts.builds), default=0.0)
    evidence = {"queued": len(facts.builds), "oldest_seconds": round(oldest)}
    if len(facts.builds) >= limits.build_queue_warning or oldest >= limits.build_wait_warning:
        return Finding(
            name, DOCKYARD, "warning", f"{len(facts.builds)} build(s) queued, the oldest for {oldest:.0f}s", evidence
        )
    return Finding(name, DOCKYARD, "ok", f"{len(facts.builds)} build(s) queued", evidence)


def check_audit(facts: DockyardFacts, limits: Limits) -> Finding:
    name = "audit-chain"
    if facts.audit_ok is None:
        return _finding(name, DOCKYARD, "warning", f"not verified: {facts.audit_detail}")
    if not facts.audit_ok:
        return _finding(
            name, DOCKYARD, "failed", f"the audit chain is broken: {facts.audit_detail}", detail=facts.audit_detail
        )
    return _finding(name, DOCKYARD, "ok", f"the audit chain verifies ({facts.audit_detail})")


def check_database(facts: DockyardFacts, limits: Limits) -> Finding:
    name = "database"
    if facts.database_bytes is None:
        return _finding(name, DOCKYARD, "warning", "size unknown: " + facts.details.get("database", "not read"))
    evidence = {"bytes": facts.database_bytes}
    if facts.database_bytes >= limits.database_warning_bytes:
        return Finding(name, DOCKYARD, "warning", f"the database holds {_gib(facts.database_bytes)}", evidence)
    return Finding(name, DOCKYARD, "ok", f"the database holds {_mib(facts.database_bytes)}", evidence)


def check_targets(facts: DockyardFacts, limits: Limits) -> Finding:
    name = "prometheus-targets"
    if facts.targets is None:
        detail = facts.details.get("targets", "Prometheus is not configured")
        return _finding(name, DOCKYARD, "warning", f"unknown: {detail}", detail=detail)
    down = [t for t in facts.targets if not t.up]
    jobs = sorted({t.job for t in facts.targets})
    evidence = {
        "targets": len(facts.targets),
        "jobs": jobs,
        "down": [f"{t.job} {t.url}: {t.error}" for t in down[:MAX_LISTED]],
    }
    if not facts.targets:
        return Finding(name, DOCKYARD, "warning", "Prometheus scrapes no target", evidence)
    if down:
        return Finding(name, DOCKYARD, "failed", f"{len(down)} of {len(facts.targets)} targets down", evidence)
    return Finding(name, DOCKYARD, "ok", f"{len(facts.targets)} targets up", evidence)


DockyardCheck = Callable[[DockyardFacts, Limits], Finding]
DOCKYARD_CHECKS: dict[str, DockyardCheck] = {
    "watch-lag": check_watch_lag,
    "operations": check_operations,
    "build-queue": check_builds,
    "audit-chain": check_audit,
    "database": check_database,
    "prometheus-targets": check_targets,
}
CHECK_NAMES = (*CLUSTER_CHECKS, "certificates", *DOCKYARD_CHECKS)


def inspect_cluster(facts: ClusterFacts, limits: Limits, *, now: dt.datetime) -> list[Finding]:
    """Every cluster check of one cluster, in :data:`CLUSTER_CHECKS` order, certificates after etcd."""
    out = [check(facts, limits) for check in CLUSTER_CHECKS.values()]
    out.insert(3, check_certificates(facts, limits, now=now))
    return out


def inspect(
    clusters: Sequence[ClusterFacts], dockyard: DockyardFacts | None, limits: Limits, *, now: dt.datetime
) -> list[Finding]:
    """Every check: each cluster's, then Dockyard's own (``dockyard`` None: not inspected)."""
    out = [f for c in clusters for f in inspect_cluster(c, limits, now=now)]
    if dockyard is not None:
        out += [check(dockyard, limits) for check in DOCKYARD_CHECKS.values()]
    return out


def counts(findings: Iterable[Finding]) -> dict[str, int]:
    out: dict[str, int] = dict.fromkeys(RESULTS, 0)
    for f in findings:
        out[f.result] += 1
    return out


def overall(findings: Iterable[Finding]) -> Result:
    return _worst(f.result for f in findings)


# --- Across runs ------------------------------------------------------------------------------------


def carry(findings: Sequence[Finding], previous: Sequence[Finding], *, now: dt.datetime) -> list[Finding]:
    """``findings`` with ``since`` set on the failed ones: the previous run's if it failed there too,
    else ``now``; others have none."""
    before = {f.key: f for f in previous}
    out = []
    for f in findings:
        if f.result != "failed":
            out.append(replace(f, since=None))
            continue
        old = before.get(f.key)
        since = old.since if old is not None and old.result == "failed" and old.since is not None else now
        out.append(replace(f, since=since))
    return out


@dataclass(frozen=True)
class Change:
    """One check whose result differs between two runs (``before``/``after`` None: not in that run)."""

    cluster: str
    check: str
    before: Result | None
    after: Result | None
    summary: str  # the newer run's summary (the older one's if the check is gone)

    def to_json(self) -> dict[str, Any]:
        return {
            "cluster": self.cluster,
            "check": self.check,
            "before": self.before,
            "after": self.after,
            "summary": self.summary,
        }


def diff(older: Sequence[Finding], newer: Sequence[Finding]) -> list[Change]:
    """The checks whose result changed from ``older`` to ``newer`` (a changed summary alone is no
    change), ordered by cluster and check; a check in one run only appears with ``None`` on the other side."""
    before = {f.key: f for f in older}
    after = {f.key: f for f in newer}
    out = []
    for key in sorted(before.keys() | after.keys()):
        b, a = before.get(key), after.get(key)
        if b is not None and a is not None and a.result == b.result:
            continue
        shown = a if a is not None else b
        assert shown is not None
        out.append(Change(key[0], key[1], b.result if b else None, a.result if a else None, shown.summary))
    return out


def to_notify(findings: Sequence[Finding], previous: Sequence[Finding]) -> tuple[list[Finding], list[Finding]]:
    """What to tell: the failed findings (each an episode from its ``since``: told once however many
    runs see it) and the previous run's failed ones that no longer fail (resolved)."""
    now_failed = {f.key for f in findings if f.result == "failed"}
    firing = [f for f in findings if f.result == "failed"]
    resolved = [f for f in previous if f.result == "failed" and f.key not in now_failed and f.since is not None]
    return firing, resolved


# --- Helpers ----------------------------------------------------------------------------------------


def _minor(version: str) -> tuple[int, int] | None:
    m = _VERSION.match(version or "")
    return (int(m.group(1)), int(m.group(2))) if m else None


def _gib(n: float) -> str:
    return f"{n / 1024**3:.2f} GiB"


def _mib(n: float) -> str:
    return f"{n / 1024**2:.1f} MiB"


# --- Runs -------------------------------------------------------------------------------------------

RunStatus = Literal["running", "done", "failed"]
Trigger = Literal["schedule", "manual"]


@dataclass(frozen=True)
class Run:
    """One inspection run and its report: the findings, and what changed since ``previous_id``."""

    id: int
    trigger: str  # schedule | manual
    requested_by: str
    clusters: list[str]  # asked for ([]: every registered cluster, and Dockyard itself)
    status: str  # running | done | failed
    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    result: str = ""  # the worst finding's ("" while running)
    counts: dict[str, int] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    previous_id: int | None = None
    error: str = ""


def change_from_json(data: dict[str, Any]) -> Change:
    return Change(
        str(data["cluster"]), str(data["check"]), data.get("before"), data.get("after"), str(data.get("summary", ""))
    )


def comparable(older: Sequence[Finding], newer: Sequence[Finding]) -> list[Finding]:
    """The findings of ``older`` on what ``newer`` inspected (its clusters; Dockyard's if it has
    any): a run of one cluster is compared with that cluster of a whole run, not told the rest vanished."""
    scope = {f.cluster for f in newer}
    return [f for f in older if f.cluster in scope]
