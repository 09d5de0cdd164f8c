"""The inspection checks as tables: facts in, one finding out; the carry of failures across runs,
the diff between runs, and what is told."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from dockyard.domain.capacity import is_problem
from dockyard.domain.inspection import (
    CHECK_NAMES,
    DOCKYARD,
    Change,
    ClusterFacts,
    Component,
    Condition,
    ControlPlane,
    DockyardFacts,
    Finding,
    Limits,
    NodeFacts,
    PendingWork,
    Target,
    Watch,
    carry,
    check_apiserver,
    check_audit,
    check_builds,
    check_certificates,
    check_components,
    check_database,
    check_etcd,
    check_images,
    check_kernel,
    check_kubelet_versions,
    check_metrics_api,
    check_nodes,
    check_operations,
    check_pressure,
    check_requested,
    check_targets,
    check_terminating,
    check_watch,
    check_watch_lag,
    comparable,
    counts,
    diff,
    inspect,
    overall,
    to_notify,
)

NOW = dt.datetime(2026, 12, 2, 17, 30, tzinfo=dt.UTC)
LIMITS = Limits()
GIB = 1024**3
HEALTHY = (Component("controller-manager", True, "ok"), Component("etcd-0", True, "ok"), Component("scheduler", True))
CONTROL = ControlPlane(
    ready=True,
    version="v1.34.1",
    components=HEALTHY,
    etcd_db_bytes=20e6,
    cert_not_after=NOW + dt.timedelta(days=300),
    metrics_api=True,
)


def node(name: str = "n1", **kw: object) -> NodeFacts:
    base = {"ready": True, "kubelet": "v1.34.1", "cpu_millis": 4000, "memory": 8 << 30, "pods": 110}
    return NodeFacts(name, **{**base, **kw})  # type: ignore[arg-type]


def cluster(control: ControlPlane = CONTROL, nodes: tuple[NodeFacts, ...] | None = None, **kw: object) -> ClusterFacts:
    return ClusterFacts("c1", control, (node(),) if nodes is None else nodes, **kw)  # type: ignore[arg-type]


def control(**kw: object) -> ControlPlane:
    return replace(CONTROL, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("check", "facts", "result", "says"),
    [
        (check_apiserver, cluster(), "ok", "/readyz ok"),
        (check_apiserver, cluster(control(ready=False, ready_detail="connection refused")), "failed", "refused"),
        (check_apiserver, cluster(control(failing_readyz=("etcd",))), "warning", "etcd"),
        (check_etcd, cluster(), "ok", "healthy"),
        (check_etcd, cluster(control(ready=False)), "failed", "not ready"),
        (check_etcd, cluster(control(failing_readyz=("etcd",))), "failed", "unhealthy"),
        (check_etcd, cluster(control(components=(Component("etcd-0", False, "dial tcp: refused"),))), "failed",
         "refused"),
        (check_etcd, cluster(control(etcd_leader=False)), "failed", "no leader"),
        (check_etcd, cluster(control(etcd_db_bytes=3 * 1024**3)), "warning", "3.00 GiB"),
        (check_etcd, cluster(control(etcd_db_bytes=7 * 1024**3)), "failed", "7.00 GiB"),
        (check_etcd, cluster(control(etcd_db_bytes=None)), "ok", "healthy"),
        (check_components, cluster(), "ok", "healthy"),
        (check_components, cluster(control(components=(Component("scheduler", False, "refused"),
                                                        Component("controller-manager", True)))), "warning",
         "scheduler: refused"),
        (check_components, cluster(control(components=(Component("scheduler", False, "refused", 3.0, 15.0),
                                                        Component("controller-manager", True, "", 2.0, 15.0)))),
         "ok", "healthy"),  # renewing their leases: the default-port probe does not matter
        (check_components, cluster(control(components=(Component("scheduler", True, "ok", 95.0, 15.0),
                                                        Component("controller-manager", True)))), "failed",
         "scheduler (95s ago)"),
        (check_components, cluster(control(components=(Component("scheduler", True),))), "warning",
         "controller-manager"),
        (check_components, cluster(control(components=None, details={"components": "403"})), "warning", "403"),
        (check_components, cluster(control(ready=False, components=None)), "failed", "unknown"),
        (check_metrics_api, cluster(), "ok", "available"),
        (check_metrics_api, cluster(control(metrics_api=False, details={"metrics_api": "FailedDiscovery"})),
         "failed", "FailedDiscovery"),
        (check_metrics_api, cluster(control(metrics_api=None)), "warning", "not served"),
        (check_nodes, cluster(), "ok", "1 nodes Ready"),
        (check_nodes, cluster(nodes=(node(), node("n2", ready=False))), "failed", "1 of 2 nodes not Ready"),
        (check_nodes, cluster(nodes=()), "warning", "no node"),
        (check_nodes, ClusterFacts("c1", CONTROL, None), "failed", "not known"),
        (check_nodes, cluster(nodes=(node(unschedulable=True),)), "ok", "1 cordoned"),
        (check_pressure, cluster(), "ok", "no node"),
        (check_pressure, cluster(nodes=(node(problems=(Condition("DiskPressure"),)),)), "warning",
         "DiskPressure on 1"),
        (check_pressure, cluster(nodes=(node(problems=(Condition("KernelDeadlock"),)),)), "ok", "no node"),
        (check_kernel, cluster(), "ok", "no node"),
        (check_kernel, cluster(nodes=(node(problems=(Condition("ReadonlyFilesystem", "FilesystemIsReadOnly"),)),)),
         "failed", "ReadonlyFilesystem: n1"),
        (check_kernel, cluster(nodes=(node(problems=(Condition("Ready", "KubeletNotReady"),)),)), "ok", "no node"),
        (check_kernel, cluster(nodes=(node(problems=(Condition("MemoryPressure"),)),)), "ok", "no node"),
        (check_kubelet_versions, cluster(), "ok", "within"),
        (check_kubelet_versions, cluster(nodes=(node(kubelet="v1.33.2"),)), "warning", "older"),
        (check_kubelet_versions, cluster(nodes=(node(kubelet="v1.30.0"),)), "failed", "more than 3 minors"),
        (check_kubelet_versions, cluster(nodes=(node(kubelet="v1.35.0"),)), "failed", "1 kubelet(s) newer"),
        (check_kubelet_versions, cluster(nodes=(node(kubelet="fake"),)), "ok", "within"),
        (check_kubelet_versions, cluster(control(version="")), "warning", "unknown"),
        (check_requested, cluster(), "ok", "room"),
        (check_requested, cluster(nodes=(node(cpu_requested=3600),)), "warning", "over 85%"),
        (check_requested, cluster(nodes=(node(pods_requested=110),)), "warning", "fully requested"),
        (check_requested, cluster(nodes=(node(cpu_millis=0, cpu_requested=10),)), "warning", "fully requested"),
        (check_images, cluster(), "ok", "no node reports"),  # KWOK nodes: neither images nor ephemeral-storage
        (check_images, cluster(nodes=(node(images=GIB, ephemeral=10 * GIB),)), "ok", "below 70%"),
        (check_images, cluster(nodes=(node(images=7 * GIB, ephemeral=10 * GIB),)), "warning",
         "over 70% of their disk: n1"),
        (check_images, cluster(nodes=(node(images=int(8.5 * GIB), ephemeral=10 * GIB),
                                      node("n2", images=7 * GIB, ephemeral=10 * GIB))), "failed",
         "85% of their disk: n1"),
        (check_images, cluster(nodes=(node(images=3 * GIB, ephemeral=2 * GIB),)), "failed", "1 node(s)"),
        (check_images, cluster(nodes=(node(images=GIB),)), "ok", "no node reports"),
        (check_images, ClusterFacts("c1", CONTROL, None), "warning", "not listed"),
        (check_terminating, cluster(), "ok", "no instance"),
        (check_terminating, cluster(terminating=("shop/web-1",)), "warning", "1 instance"),
        (check_watch, cluster(), "ok", "connected"),
        (check_watch, cluster(watched=False), "failed", "not connected"),
    ],
)  # fmt: skip
def test_cluster_checks(check: object, facts: ClusterFacts, result: str, says: str) -> None:
    found = check(facts, LIMITS)  # type: ignore[operator]
    assert (found.result, found.cluster) == (result, "c1"), found
    assert says in found.summary, found.summary


@pytest.mark.parametrize(
    ("days", "result"), [(300, "ok"), (31, "ok"), (30, "warning"), (8, "warning"), (7, "failed"), (-1, "failed")]
)
def test_certificate_expiry_in_days_left(days: float, result: str) -> None:
    found = check_certificates(cluster(control(cert_not_after=NOW + dt.timedelta(days=days))), LIMITS, now=NOW)
    assert found.result == result
    assert found.evidence["days_left"] == days


def test_an_unread_certificate_is_a_warning_naming_why() -> None:
    facts = cluster(control(cert_not_after=None, details={"cert_not_after": "no answer in time"}))
    found = check_certificates(facts, LIMITS, now=NOW)
    assert (found.result, found.evidence) == ("warning", {"detail": "no answer in time"})


MINE = DockyardFacts(
    watches=(Watch("c1", True, 2.0),),
    operations=(PendingWork("op-1", "deploy", 30.0),),
    builds=(),
    audit_ok=True,
    audit_detail="12 entries",
    database_bytes=5 << 20,
    targets=(Target("kubelet", True), Target("dockyard", True)),
)


def mine(**kw: object) -> DockyardFacts:
    return replace(MINE, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("check", "facts", "result", "says"),
    [
        (check_watch_lag, MINE, "ok", "1 cluster watch"),
        (check_watch_lag, mine(watches=(Watch("c1", True, 200.0),)), "warning", "quiet"),
        (check_watch_lag, mine(watches=(Watch("c1", True, 900.0),)), "failed", "c1"),
        (check_watch_lag, mine(watches=(Watch("c1", False, float("inf")),)), "failed", "c1"),
        (check_operations, MINE, "ok", "none stuck"),
        (check_operations, mine(operations=(PendingWork("op-9", "scale", 4000.0),)), "warning", "1 operation"),
        (check_operations, mine(operations=None, details={"operations": "database away"}), "warning", "away"),
        (check_builds, MINE, "ok", "0 build"),
        (check_builds, mine(builds=tuple(PendingWork(str(i), "s/a", 1.0) for i in range(20))), "warning", "20"),
        (check_builds, mine(builds=(PendingWork("b", "s/a", 1000.0),)), "warning", "1000s"),
        (check_audit, MINE, "ok", "verifies"),
        (check_audit, mine(audit_ok=False, audit_detail="seq 4"), "failed", "broken: seq 4"),
        (check_audit, mine(audit_ok=None, audit_detail="database away"), "warning", "not verified"),
        (check_database, MINE, "ok", "5.0 MiB"),
        (check_database, mine(database_bytes=11 * 1024**3), "warning", "11.00 GiB"),
        (check_database, mine(database_bytes=None), "warning", "unknown"),
        (check_targets, MINE, "ok", "2 targets up"),
        (check_targets, mine(targets=(Target("kubelet", False, "http://x", "refused"), Target("d", True))),
         "failed", "1 of 2"),
        (check_targets, mine(targets=None, details={"targets": "Prometheus is not configured"}), "warning",
         "not configured"),
        (check_targets, mine(targets=()), "warning", "no target"),
    ],
)  # fmt: skip
def test_dockyard_checks(check: object, facts: DockyardFacts, result: str, says: str) -> None:
    found = check(facts, LIMITS)  # type: ignore[operator]
    assert (found.result, found.cluster) == (result, DOCKYARD), found
    assert says in found.summary, found.summary


def test_inspect_runs_every_check_once_per_cluster_and_dockyard_once() -> None:
    findings = inspect([cluster(), replace(cluster(), cluster="c2")], MINE, LIMITS, now=NOW)
    keys = [f.key for f in findings]
    assert len(keys) == len(set(keys))
    per_cluster = len(CHECK_NAMES) - 6
    assert len(findings) == 2 * per_cluster + 6
    assert {f.check for f in findings} == set(CHECK_NAMES)
    assert overall(findings) == "ok"
    assert counts(findings) == {"ok": len(findings), "warning": 0, "failed": 0}


def test_a_healthy_cluster_is_all_ok() -> None:
    assert {f.result for f in inspect([cluster()], None, LIMITS, now=NOW)} == {"ok"}


def f(check: str, result: str, *, cluster: str = "c1", since: dt.datetime | None = None) -> Finding:
    return Finding(check, cluster, result, f"{check} is {result}", since=since)  # type: ignore[arg-type]


EARLIER = NOW - dt.timedelta(days=1)


def test_a_failure_keeps_when_it_began_across_runs_and_a_new_one_begins_now() -> None:
    before = [f("kernel", "failed", since=EARLIER), f("etcd", "ok"), f("nodes-ready", "warning")]
    now = [f("kernel", "failed"), f("etcd", "failed"), f("nodes-ready", "ok")]
    assert [x.since for x in carry(now, before, now=NOW)] == [EARLIER, NOW, None]


@pytest.mark.parametrize(
    ("older", "newer", "changes"),
    [
        ([], [], []),
        ([f("kernel", "ok")], [f("kernel", "ok")], []),
        ([f("kernel", "ok")], [f("kernel", "failed")], [Change("c1", "kernel", "ok", "failed", "kernel is failed")]),
        ([f("kernel", "failed")], [f("kernel", "ok")], [Change("c1", "kernel", "failed", "ok", "kernel is ok")]),
        ([], [f("kernel", "ok")], [Change("c1", "kernel", None, "ok", "kernel is ok")]),
        ([f("kernel", "warning")], [], [Change("c1", "kernel", "warning", None, "kernel is warning")]),
        ([f("b", "ok"), f("a", "ok", cluster="c0")], [f("b", "failed"), f("a", "failed", cluster="c0")],
         [Change("c0", "a", "ok", "failed", "a is failed"), Change("c1", "b", "ok", "failed", "b is failed")]),
    ],
)  # fmt: skip
def test_diff(older: list[Finding], newer: list[Finding], changes: list[Change]) -> None:
    assert diff(older, newer) == changes


def test_a_run_of_one_cluster_compares_with_that_cluster_only() -> None:
    whole = [f("kernel", "ok"), f("kernel", "ok", cluster="c2"), f("database", "ok", cluster=DOCKYARD)]
    assert comparable(whole, [f("kernel", "failed")]) == [f("kernel", "ok")]


def test_told_failures_are_every_failed_one_and_the_resolved_ones() -> None:
    before = [f("kernel", "failed", since=EARLIER), f("etcd", "failed", since=EARLIER), f("nodes-ready", "ok")]
    now = carry([f("kernel", "failed"), f("etcd", "ok"), f("nodes-ready", "failed")], before, now=NOW)
    firing, resolved = to_notify(now, before)
    assert [(x.check, x.since) for x in firing] == [("kernel", EARLIER), ("nodes-ready", NOW)]
    assert [(x.check, x.since) for x in resolved] == [("etcd", EARLIER)]


def test_findings_round_trip_through_json() -> None:
    one = Finding("kernel", "c1", "failed", "bad", {"nodes": {"n1": [{"type": "KernelDeadlock"}]}}, since=NOW)
    assert Finding.from_json(one.to_json()) == one


@pytest.mark.parametrize(
    ("condition", "status", "problem"),
    [
        ("Ready", "True", False),
        ("Ready", "False", True),
        ("Ready", "Unknown", True),
        ("MemoryPressure", "False", False),
        ("DiskPressure", "True", True),
        ("KernelDeadlock", "True", True),
        ("ReadonlyFilesystem", "False", False),
    ],
)
def test_which_node_conditions_are_problems(condition: str, status: str, problem: bool) -> None:
    assert is_problem(condition, status) is problem
