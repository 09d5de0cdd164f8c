"""`up` is idempotent and repairs a crashed component; `status`, `kubectl` and `down` work by pid."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from pathlib import Path

from dockyard.sandbox import cluster, processes
from dockyard.sandbox.binaries import ensure_binaries
from dockyard.sandbox.components import COMPONENTS
from dockyard.sandbox.topology import Capacity, Pool, Taint, Topology, default_topology
from tests.integration.harness.cli import DOCKYARD
from tests.integration.harness.sandboxes import SANDBOX_NODES, Sandbox, free_port
from tests.integration.harness.waiting import eventually_blocking


def _pids(sandbox: Sandbox) -> dict[str, int]:
    out = {}
    for name in COMPONENTS:
        running = processes.find(sandbox.layout.pid_file(name), marker=str(sandbox.layout.root))
        assert running is not None, f"{name} is not running"
        out[name] = running.pid
    return out


def _nodes(sandbox: Sandbox) -> str:
    columns = "custom-columns=NAME:.metadata.name,UID:.metadata.uid,RV:.metadata.resourceVersion"
    # The fake nodes of the topology (a real node, once a test has added one, is not in it).
    return _kubectl(sandbox, "get", "nodes", "-o", columns, "--no-headers", "-l", "dockyard.io/sandbox-node")


def test_second_up_changes_nothing(sandbox: Sandbox) -> None:
    pids = _pids(sandbox)
    result = cluster.up(sandbox.layout)
    assert result.started == []
    assert (result.nodes_created, result.nodes_deleted, result.nodes) == (0, 0, SANDBOX_NODES)
    assert _pids(sandbox) == pids
    assert len(_nodes(sandbox).splitlines()) == SANDBOX_NODES


def test_up_after_a_crash_restarts_only_what_is_missing(sandbox: Sandbox) -> None:
    before = _pids(sandbox)
    os.kill(before["kwok"], signal.SIGKILL)
    os.kill(before["kube-scheduler"], signal.SIGKILL)
    for pid in (before["kwok"], before["kube-scheduler"]):
        _wait_gone(pid)
    result = cluster.up(sandbox.layout)
    assert sorted(result.started) == ["kube-scheduler", "kwok"]
    after = _pids(sandbox)
    assert {n: p for n, p in after.items() if n not in result.started} == {
        n: p for n, p in before.items() if n not in result.started
    }
    assert all(s.healthy for s in cluster.status(sandbox.layout))
    # The new KWOK takes the nodes over at once (it does not wait for the old one's leases to expire).
    namespace = f"crash-{os.getpid()}"
    _kubectl(sandbox, "create", "namespace", namespace)
    try:
        _wait_default_service_account(sandbox, namespace)
        _kubectl(sandbox, "-n", namespace, "run", "probe", "--image=registry.local/probe:1")
        _kubectl(sandbox, "-n", namespace, "wait", "--for=condition=Ready", "pod/probe", "--timeout=30s")
    finally:
        _kubectl(sandbox, "delete", "namespace", namespace, "--wait=false")


def _wait_default_service_account(sandbox: Sandbox, namespace: str) -> None:
    """The controller manager adds `default` to a new namespace a moment later; a pod before it is refused."""
    argv = [DOCKYARD, "sandbox", "kubectl", "--dir", str(sandbox.layout.root), "--"]
    get = [*argv, "-n", namespace, "get", "serviceaccount", "default"]
    eventually_blocking(
        lambda: subprocess.run(get, capture_output=True, check=False).returncode == 0,
        f"the default service account in {namespace}",
        timeout=30,
    )


def _kubectl(sandbox: Sandbox, *args: str) -> str:
    argv = [DOCKYARD, "sandbox", "kubectl", "--dir", str(sandbox.layout.root), "--", *args]
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"kubectl {' '.join(args)}: {result.stderr}"
    return result.stdout


def test_status_command_lists_every_component_healthy(sandbox: Sandbox) -> None:
    out = subprocess.run(
        [DOCKYARD, "sandbox", "status", "--dir", str(sandbox.layout.root)],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "250"},
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    rows = {}
    for row in out.stdout.splitlines():
        cells = [c.strip() for c in row.split("│")[1:-1]]
        if len(cells) == 5 and cells[0] in COMPONENTS:
            rows[cells[0]] = cells
    ports = {
        "etcd": sandbox.ports.etcd,
        "kube-apiserver": sandbox.ports.apiserver,
        "kube-controller-manager": sandbox.ports.controller_manager,
        "kube-scheduler": sandbox.ports.scheduler,
        "kwok": sandbox.ports.kwok,
        "metrics-server": sandbox.ports.metrics_server,
        "registry": sandbox.ports.registry,
        "coredns": sandbox.ports.dns,
        "haproxy": sandbox.ports.edge,
        "alertmanager": sandbox.ports.alertmanager,
        "prometheus": sandbox.ports.prometheus,
        "victoria-logs": sandbox.ports.logs,
    }
    assert sorted(rows) == sorted(COMPONENTS)
    for name, (_, state, pid, port, log) in rows.items():
        assert state == "healthy"
        assert int(pid) == _pids(sandbox)[name]
        assert int(port) == ports[name]
        assert log == str(sandbox.layout.log(name))
    kubeconfig = subprocess.run(
        [DOCKYARD, "sandbox", "kubeconfig", "--dir", str(sandbox.layout.root)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert kubeconfig == str(sandbox.kubeconfig)


def test_down_stops_only_the_sandbox_own_processes(sandbox: Sandbox, tmp_path: Path) -> None:
    # A second etcd from the very same binary, not part of the sandbox, must survive `down`.
    etcd = str(ensure_binaries().etcd)
    client, peer = free_port(), free_port()
    decoy = subprocess.Popen(
        [
            etcd,
            f"--data-dir={tmp_path / 'etcd'}",
            f"--listen-client-urls=http://127.0.0.1:{client}",
            f"--advertise-client-urls=http://127.0.0.1:{client}",
            f"--listen-peer-urls=http://127.0.0.1:{peer}",
            f"--initial-advertise-peer-urls=http://127.0.0.1:{peer}",
            f"--initial-cluster=default=http://127.0.0.1:{peer}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        pids = _pids(sandbox)
        # The components, and a real node's (containerd, kubelet, kube-proxy) once a test has added one.
        running = sorted(s.name for s in cluster.status(sandbox.layout) if s.running)
        assert set(COMPONENTS) <= set(running)
        stopped = cluster.down(sandbox.layout)
        assert sorted(stopped) == running
        for pid in pids.values():
            _wait_gone(pid)
        assert decoy.poll() is None, "down stopped a process that was not the sandbox's"
        assert not any(s.running for s in cluster.status(sandbox.layout))
    finally:
        decoy.terminate()
        decoy.wait(timeout=10)
        # Bring the shared sandbox back for the tests after this one; its data (nodes) survived.
        result = cluster.up(sandbox.layout)
    assert sorted(result.started) == running
    assert result.nodes_created == 0


def _wait_gone(pid: int, timeout: float = 10.0) -> None:
    def gone() -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        return False

    eventually_blocking(gone, f"process {pid} to end", timeout=timeout, interval=0.05)


def test_up_with_another_topology_creates_and_deletes_nodes(sandbox: Sandbox) -> None:
    edge = Pool(
        name="edge",
        count=2,
        idc="idc-c",
        cpu_model="arm-neoverse-n1",
        capacity=Capacity(cpu="8", memory="16Gi", pods=30),
        taints=[Taint(key="dedicated", value="edge", effect="NoSchedule")],
    )
    # The new pool comes first: its nodes take positions the existing nodes had (pod CIDRs must not repeat).
    grown = Topology(pools=[edge, *default_topology(SANDBOX_NODES).pools])
    result = cluster.up(sandbox.layout, topology=grown)
    assert (result.started, result.nodes_created, result.nodes_deleted) == ([], 2, 0)
    columns = (
        "custom-columns=N:.metadata.name,IDC:.metadata.labels.dockyard\\.io/idc,CPU:.status.allocatable.cpu,"
        "T:.spec.taints[0].key,R:.status.conditions[?(@.type=='Ready')].status"
    )
    rows = _kubectl(sandbox, "get", "nodes", "-l", "dockyard.io/pool=edge", "--no-headers", "-o", columns).split("\n")
    assert [r.split() for r in rows if r] == [
        ["edge-0000", "idc-c", "8", "dedicated", "True"],
        ["edge-0001", "idc-c", "8", "dedicated", "True"],
    ]
    cidrs = _kubectl(
        sandbox,
        "get",
        "nodes",
        "--no-headers",
        "-l",
        "dockyard.io/sandbox-node",
        "-o",
        "custom-columns=C:.spec.podCIDR",
    ).split()
    assert len(cidrs) == SANDBOX_NODES + 2
    assert len(set(cidrs)) == len(cidrs), "every node needs a pod CIDR of its own"
    # Back to the topology the other tests expect: the two edge nodes go.
    result = cluster.up(sandbox.layout, topology=default_topology(SANDBOX_NODES))
    assert (result.nodes_created, result.nodes_deleted) == (0, 2)
    assert len(_nodes(sandbox).splitlines()) == SANDBOX_NODES


def test_up_restarts_a_component_that_runs_but_does_not_answer(sandbox: Sandbox) -> None:
    frozen = _pids(sandbox)["metrics-server"]
    os.kill(frozen, signal.SIGSTOP)  # alive, holding its port, answering nothing
    try:
        result = cluster.up(sandbox.layout)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(frozen, signal.SIGCONT)
    assert result.started == ["metrics-server"]
    _wait_gone(frozen)
    assert _pids(sandbox)["metrics-server"] != frozen
    assert all(s.healthy for s in cluster.status(sandbox.layout))
