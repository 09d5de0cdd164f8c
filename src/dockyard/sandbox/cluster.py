"""Bring the sandbox up, report on it, take it down.

Contract of :func:`up`: idempotent. Components already running and healthy are left alone, missing
ones are started, and nothing is started before every input (topology, ports, binaries) has been
checked; if a component then fails to become healthy, the ones this call started are stopped again.
Nodes are reconciled with the topology: missing ones created, extra ones deleted, existing ones kept.
Real nodes (:mod:`dockyard.sandbox.realnode`) are started last, when asked for (``real_nodes``, then
recorded); :func:`down` stops them first, while the apiserver can still drain them.
"""

from __future__ import annotations

import asyncio
import fcntl
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

from dockyard.adapters.kube.client import KubeCluster
from dockyard.adapters.kube.errors import KubeError
from dockyard.sandbox import dns, edge, kwoklogs, monitoring, processes, realnode
from dockyard.sandbox.base_image import ensure_base_image
from dockyard.sandbox.binaries import KUBERNETES_VERSION, Binaries, cached_binaries, ensure_binaries
from dockyard.sandbox.components import COMPONENTS, PORT_OF, Component, components, write_configs
from dockyard.sandbox.errors import ComponentError, PortInUseError, SandboxError
from dockyard.sandbox.layout import Layout, Ports
from dockyard.sandbox.pki import Pki, ensure_pki, write_kubeconfig
from dockyard.sandbox.topology import MANAGED_LABEL, Topology, assign_pod_cidrs, default_topology, node_manifests

Progress = Callable[[str], None]
_HEALTH_TIMEOUT = {"kube-apiserver": 120.0}
_DEFAULT_HEALTH_TIMEOUT = 60.0
_RUNNING_GRACE = 15.0  # a component found running gets this long to answer healthy before a restart


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    running: bool
    healthy: bool
    pid: int | None
    port: int
    log: str


@dataclass(frozen=True)
class UpResult:
    started: list[str]
    nodes_created: int
    nodes_deleted: int
    nodes: int
    real_nodes: tuple[str, ...] = ()


def up(
    layout: Layout,
    *,
    ports: Ports | None = None,
    topology: Topology | None = None,
    progress: Progress | None = None,
    wait_timeout: float = 300.0,
    labels: dict[str, str] | None = None,
    real_nodes: int | None = None,
) -> UpResult:
    """Start what is missing of the sandbox in ``layout`` and reconcile its nodes with ``topology``.
    ``labels`` (idc, provider, region) are recorded in its state for ``sandbox list`` and for
    registering it as a Dockyard cluster; None keeps the recorded ones. ``real_nodes``: how many real
    nodes to run (None keeps the recorded number; :class:`~dockyard.sandbox.realnode.RealNodeError`
    when the machine cannot or another sandbox runs them)."""
    say = progress or (lambda _m: None)
    existed = layout.root.exists()
    with _locked(layout):
        fresh = not layout.state_file.exists()
        try:
            return _up_locked(layout, ports, topology, say, wait_timeout, labels, real_nodes)
        except BaseException:
            if fresh and not existed:  # a first `up` that failed leaves nothing behind
                shutil.rmtree(layout.root, ignore_errors=True)
            raise


def _up_locked(
    layout: Layout,
    ports: Ports | None,
    topology: Topology | None,
    say: Progress,
    wait_timeout: float,
    labels: dict[str, str] | None,
    real_nodes: int | None,
) -> UpResult:
    state = layout.read_state() or {}
    real_count = int(state.get("real_nodes", 0)) if real_nodes is None else real_nodes
    realnode.check(layout, real_count)
    labels = dict(state.get("labels", {})) if labels is None else labels
    ports = _choose_ports(layout, state, ports)
    if topology is None:
        topology = Topology.model_validate(state["topology"]) if "topology" in state else default_topology()
    marker = str(layout.root)
    missing = {n for n in COMPONENTS if processes.find(layout.pid_file(n), marker=marker) is None}
    _check_inputs(ports, missing)
    binaries = ensure_binaries(progress=say)
    layout.make_dirs()
    pki = ensure_pki(layout.pki)
    changed = _write_configs(layout, ports, pki, labels, nodes=topology.node_count)
    comps = components(layout, ports, binaries, pki, nodes=topology.node_count)
    started: list[str] = []
    try:
        for comp in comps:
            why = None if comp.name in missing else _restart_reason(layout, comp, changed)
            if why:
                say(f"restarting {comp.name}: {why}")
                processes.stop(layout.pid_file(comp.name), marker=marker)
                missing.add(comp.name)
            if comp.name in missing:
                _start(layout, comp, say)
                started.append(comp.name)
                _wait_healthy(layout, comp)
            elif comp.name == "prometheus" and "prometheus" in changed:
                monitoring.reload(layout, layout.pid_file(comp.name))
        if ensure_base_image(layout, ports):
            say("made the base image and pushed it to the sandbox registry")
        say(f"reconciling {topology.node_count} nodes")
        created, deleted = asyncio.run(_bootstrap(layout, ports, topology, wait_timeout))
    except BaseException:
        for name in reversed(started):
            processes.stop(layout.pid_file(name), marker=marker)
        raise
    # Recorded only once it all worked, so a later plain `up` never reuses a rejected topology.
    record = {"ports": asdict(ports), "topology": topology.model_dump(by_alias=True), "labels": labels}
    layout.write_state({**record, "real_nodes": int(state.get("real_nodes", 0))})
    try:
        real_started, real_names = realnode.ensure(
            layout, ports, binaries, pki, topology=topology, count=real_count, progress=say
        )
        if real_names:
            asyncio.run(realnode.wait_ready(layout, real_names, wait_timeout))
    except realnode.RealNodeError:
        raise  # nothing was started
    except BaseException:
        realnode.stop(layout, binaries)  # what this call started, and the host put back
        raise
    layout.write_state({**record, "real_nodes": real_count})
    monitoring.write_real_nodes(layout, ports, real_names)  # Prometheus scrapes their kubelets
    return UpResult(
        started=started + real_started,
        nodes_created=created,
        nodes_deleted=deleted,
        nodes=topology.node_count,
        real_nodes=tuple(real_names),
    )


def _restart_reason(layout: Layout, comp: Component, changed: set[str]) -> str | None:
    """Why a running component must be restarted, if it must."""
    if not _healthy_within(layout, comp, _RUNNING_GRACE):
        return "it runs but is not healthy"
    if comp.name == "kwok" and "kwok" in changed:
        return "its configuration changed"  # KWOK reads its Metric and Stage files once, at start
    running = processes.find(layout.pid_file(comp.name), marker=str(layout.root))
    if running is not None and processes.command_line(running.pid) != comp.argv:
        return "its command line changed"  # e.g. metrics-server's resolution in a bigger sandbox
    return None


def _write_configs(layout: Layout, ports: Ports, pki: Pki, labels: dict[str, str], *, nodes: int) -> set[str]:
    """Every component's configuration files; the names of the running components that must pick up a
    change (Prometheus is told to reload, KWOK restarted)."""
    write_kubeconfig(layout.kubeconfig, pki=pki, server=f"https://127.0.0.1:{ports.apiserver}")
    changed = {"kwok"} if write_configs(layout, ports, nodes=nodes) else set()
    dns.write_config(layout, ports, idc=labels.get("idc", ""))
    if monitoring.write_config(layout, ports, nodes=nodes):
        changed.add("prometheus")
    return changed


def _start(layout: Layout, comp: Component, say: Progress) -> None:
    if comp.name == "kwok":
        asyncio.run(_release_node_leases(layout))
    say(f"starting {comp.name} on 127.0.0.1:{comp.port}")
    processes.start(comp.argv, pid_file=layout.pid_file(comp.name), log_file=layout.log(comp.name), env=comp.env)


@contextmanager
def _locked(layout: Layout) -> Iterator[None]:
    """One `up` or `down` at a time per sandbox directory."""
    layout.root.mkdir(parents=True, exist_ok=True, mode=0o700)
    with (layout.root / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def down(layout: Layout) -> list[str]:
    """Stop the sandbox's own processes (by pid file), last started first; returns those stopped."""
    if not layout.root.exists():
        return []
    stopped = []
    with _locked(layout):
        stopped += realnode.stop(layout, cached_binaries())
        for name in reversed(COMPONENTS):
            if processes.stop(layout.pid_file(name), marker=str(layout.root)):
                stopped.append(name)
    return stopped


def status(layout: Layout) -> list[ComponentStatus]:
    """Each component's process and health; works whether or not the sandbox was ever started."""
    state = layout.read_state()
    if state is None:
        raise SandboxError(f"no sandbox in {layout.root}; start one with `dockyard sandbox up`")
    ports = Ports.from_dict(state.get("ports", {}))
    comps = components(layout, ports, Binaries.unbuilt(), Pki(layout.pki))
    comps += realnode.components(layout, Binaries.unbuilt())
    out = []
    for comp in comps:
        running = processes.find(layout.pid_file(comp.name), marker=str(layout.root))
        out.append(
            ComponentStatus(
                name=comp.name,
                running=running is not None,
                healthy=running is not None and comp.healthy(),
                pid=running.pid if running else None,
                port=comp.port,
                log=str(layout.log(comp.name)),
            )
        )
    return out


def _check_inputs(ports: Ports, missing: set[str]) -> None:
    """Before anything starts: free ports, and the Debian programs the missing components need."""
    _check_ports_free(ports, missing)
    if "prometheus" in missing:
        monitoring.check_installed()
    if edge.NAME in missing:
        edge.check_installed()


def _check_ports_free(ports: Ports, missing: set[str]) -> None:
    """Before anything starts: every port a missing component needs must be free."""
    for name, port_name in PORT_OF.items():
        port = getattr(ports, port_name)
        if name.split(" ")[0] in missing and processes.port_in_use(port):
            flag = port_name.replace("_", "-")
            raise PortInUseError(
                f"port {port} ({name}) is already in use; free it or choose another with --{flag}-port"
            )


def _choose_ports(layout: Layout, state: dict[str, Any], requested: Ports | None) -> Ports:
    previous = Ports.from_dict(state["ports"]) if "ports" in state else None
    if requested is None:
        return previous or Ports()
    if previous and previous != requested:
        running = [n for n in COMPONENTS if processes.find(layout.pid_file(n), marker=str(layout.root))]
        if running:
            raise SandboxError(
                "the sandbox is running with other ports; run `dockyard sandbox down` before changing them"
            )
    return requested


def _healthy_within(layout: Layout, comp: Component, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not comp.healthy():
        if time.monotonic() > deadline or processes.find(layout.pid_file(comp.name), marker=str(layout.root)) is None:
            return False
        time.sleep(0.3)
    return True


def _wait_healthy(layout: Layout, comp: Component) -> None:
    deadline = time.monotonic() + _HEALTH_TIMEOUT.get(comp.name, _DEFAULT_HEALTH_TIMEOUT)
    while time.monotonic() < deadline:
        if comp.healthy():
            return
        if processes.find(layout.pid_file(comp.name), marker=str(layout.root)) is None:
            raise ComponentError(f"{comp.name} exited; see {layout.log(comp.name)}:\n{_tail(layout, comp.name)}")
        time.sleep(0.3)
    raise ComponentError(
        f"{comp.name} did not become healthy in time; see {layout.log(comp.name)}:\n{_tail(layout, comp.name)}"
    )


def _tail(layout: Layout, name: str, lines: int = 15) -> str:
    try:
        return "\n".join(layout.log(name).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


async def _bootstrap(layout: Layout, ports: Ports, topology: Topology, wait_timeout: float) -> tuple[int, int]:
    try:
        async with KubeCluster(layout.kubeconfig, timeout=30.0) as kube:
            for manifest in _metrics_api_manifests(ports) + dns.kube_dns_manifests(ports):
                await kube.apply(manifest)
            wanted = node_manifests(topology, kubelet_version=KUBERNETES_VERSION)
            existing = await kube.list("v1", "Node", labels={MANAGED_LABEL: "true"})
            wanted_names = {n["metadata"]["name"] for n in wanted}
            existing_names = {n["metadata"]["name"] for n in existing}
            new = [n for n in wanted if n["metadata"]["name"] not in existing_names]
            assign_pod_cidrs(new, taken={n.get("spec", {}).get("podCIDR", "") for n in existing})
            created = await kube.create_many(new)
            extra = sorted(existing_names - wanted_names)
            for name in extra:
                await kube.delete("v1", "Node", name)
            await _wait_nodes_ready(kube, wanted_names, wait_timeout)
            await _wait_metrics_api(kube, wait_timeout)
            return created, len(extra)
    except KubeError as e:
        raise ComponentError(f"sandbox bootstrap failed: {e}") from e


async def _release_node_leases(layout: Layout) -> None:
    """Drop the node leases a previous KWOK held, so a restarted one takes the nodes over at once;
    and install the CRDs of the fake instances' logs KWOK watches (:mod:`.kwoklogs`).

    KWOK names itself anew on every start and would otherwise wait for each lease to expire (120 s);
    meanwhile its nodes' pods would not progress. Node status heartbeats cover the gap.
    """
    try:
        async with KubeCluster(layout.kubeconfig, timeout=30.0) as kube:
            await kube.delete_all("coordination.k8s.io/v1", "Lease", namespace="kube-node-lease")
            await kwoklogs.ensure_crds(kube)  # KWOK watches Logs and ClusterLogs from its start
    except (KubeError, TimeoutError) as e:
        raise ComponentError(f"cannot prepare the cluster for kwok (node leases, Logs CRDs): {e}") from e


async def _wait_nodes_ready(kube: KubeCluster, names: set[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    ready = 0
    while time.monotonic() < deadline:
        nodes = await kube.list("v1", "Node", labels={MANAGED_LABEL: "true"})
        ready = sum(1 for n in nodes if n["metadata"]["name"] in names and _condition(n, "Ready"))
        if ready == len(names):
            return
        await asyncio.sleep(1.0)
    raise ComponentError(f"only {ready} of {len(names)} nodes became Ready in {timeout:.0f}s; see the kwok log")


async def _wait_metrics_api(kube: KubeCluster, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        service = await kube.get("apiregistration.k8s.io/v1", "APIService", "v1beta1.metrics.k8s.io")
        if _condition(service, "Available"):
            return
        await asyncio.sleep(1.0)
    raise ComponentError("metrics.k8s.io did not become Available; see the metrics-server log")


def _condition(obj: dict[str, Any], kind: str) -> bool:
    conditions = (obj.get("status") or {}).get("conditions") or []
    return any(c.get("type") == kind and c.get("status") == "True" for c in conditions)


def _metrics_api_manifests(ports: Ports) -> list[dict[str, Any]]:
    """Service + APIService that let the apiserver reach metrics-server on loopback (no kube-proxy)."""
    return [
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "metrics-server", "namespace": "kube-system"},
            "spec": {
                "type": "ExternalName",
                "externalName": "127.0.0.1",
                "ports": [{"name": "https", "port": ports.metrics_server, "targetPort": ports.metrics_server}],
            },
        },
        {
            "apiVersion": "apiregistration.k8s.io/v1",
            "kind": "APIService",
            "metadata": {"name": "v1beta1.metrics.k8s.io"},
            "spec": {
                "group": "metrics.k8s.io",
                "version": "v1beta1",
                "groupPriorityMinimum": 100,
                "versionPriority": 100,
                "insecureSkipTLSVerify": True,
                "service": {"name": "metrics-server", "namespace": "kube-system", "port": ports.metrics_server},
            },
        },
    ]
