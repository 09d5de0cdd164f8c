"""`dockyard sandbox ...`: the local Kubernetes cluster (real control plane, KWOK nodes)."""

from __future__ import annotations

import os
import shutil
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dockyard.cli.errors import fail

if TYPE_CHECKING:
    from rich.console import Console

    from dockyard.sandbox.layout import Layout, Ports
    from dockyard.sandbox.topology import Topology

# The sandbox package and rich are imported inside the commands: `dockyard --help` and the client
# commands must not pay for them.

app = typer.Typer(
    help="The local sandbox cluster: etcd, kube-apiserver, controller-manager, scheduler, KWOK nodes.",
    no_args_is_help=True,
)


@cache
def console() -> Console:
    """Standard output, for tables and results."""
    from rich.console import Console

    return Console(soft_wrap=True)


@cache
def err() -> Console:
    """Standard error, for progress."""
    from rich.console import Console

    return Console(stderr=True, soft_wrap=True)


DirOption = Annotated[Path | None, typer.Option("--dir", help="Sandbox directory [env DOCKYARD_SANDBOX_DIR]")]
NameOption = Annotated[
    str | None,
    typer.Option("--name", help="A named sandbox (one of several clusters), under $DOCKYARD_SANDBOXES_DIR"),
]


def _layout(directory: Path | None, name: str | None = None) -> Layout:
    """The default sandbox, the one in ``--dir``, or the named one (``--name``; not with ``--dir``)."""
    from dockyard.sandbox.errors import SandboxError
    from dockyard.sandbox.layout import Layout, default_dir, named_dir

    if name is not None:
        if directory is not None:
            raise SandboxError("give either --name or --dir, not both")
        return Layout(named_dir(name).absolute())
    return Layout((directory or default_dir()).absolute())


def _layout_or_fail(directory: Path | None, name: str | None) -> Layout:
    from dockyard.sandbox.errors import SandboxError

    try:
        return _layout(directory, name)
    except SandboxError as e:
        fail(e)


def resolve_topology(nodes: int | None, topology_file: Path | None, *, idc: str | None = None) -> Topology | None:
    """The topology asked for on the command line, or None to keep the sandbox's current one; with
    ``idc``, ``--nodes`` spreads the nodes over that one IDC's pools."""
    from dockyard.sandbox.errors import SandboxError
    from dockyard.sandbox.topology import default_topology, load_topology

    if nodes is not None and topology_file is not None:
        raise SandboxError("give either --nodes or --topology, not both")
    if topology_file is not None:
        return load_topology(topology_file)
    if nodes is not None:
        return default_topology(nodes, idc=idc)
    return None


@app.command()
def up(
    nodes: Annotated[int | None, typer.Option("--nodes", help="Spread N nodes over the default topology")] = None,
    topology: Annotated[Path | None, typer.Option("--topology", help="Topology YAML file (node pools)")] = None,
    directory: DirOption = None,
    name: NameOption = None,
    labels: Annotated[
        str | None, typer.Option("--labels", help="Cluster labels, e.g. idc=a,provider=idc,region=north")
    ] = None,
    etcd_port: Annotated[int | None, typer.Option(help="etcd client port [2379]")] = None,
    etcd_peer_port: Annotated[int | None, typer.Option(help="etcd peer port [2380]")] = None,
    apiserver_port: Annotated[int | None, typer.Option(help="kube-apiserver port [6443]")] = None,
    controller_manager_port: Annotated[int | None, typer.Option(help="kube-controller-manager port [10257]")] = None,
    scheduler_port: Annotated[int | None, typer.Option(help="kube-scheduler port [10259]")] = None,
    kwok_port: Annotated[int | None, typer.Option(help="KWOK (fake kubelets) port [10247]")] = None,
    metrics_server_port: Annotated[int | None, typer.Option(help="metrics-server port [4443]")] = None,
    registry_port: Annotated[int | None, typer.Option(help="image registry port [5000]")] = None,
    dns_port: Annotated[int | None, typer.Option(help="CoreDNS port [1053]")] = None,
    edge_port: Annotated[int | None, typer.Option(help="edge load balancer HTTP port [8480]")] = None,
    edge_admin_port: Annotated[
        int | None, typer.Option(help="edge load balancer (HAProxy) Prometheus exporter port [2019]")
    ] = None,
    prometheus_port: Annotated[int | None, typer.Option(help="Prometheus port [9090]")] = None,
    alertmanager_port: Annotated[int | None, typer.Option(help="Alertmanager port [9093]")] = None,
    dns_ready_port: Annotated[int | None, typer.Option(help="CoreDNS readiness port [8181]")] = None,
    dns_metrics_port: Annotated[int | None, typer.Option(help="CoreDNS metrics port [9153]")] = None,
    logs_port: Annotated[int | None, typer.Option(help="log store (VictoriaLogs) port [9428]")] = None,
    real_nodes: Annotated[
        int | None,
        typer.Option("--real-nodes", help="Real nodes (kubelet + containerd) beside the KWOK ones [recorded; 0]"),
    ] = None,
) -> None:
    """Start the sandbox (idempotent: what already runs is left alone, what is missing is started)."""
    from dockyard.sandbox import cluster
    from dockyard.sandbox.errors import SandboxError
    from dockyard.sandbox.layout import Ports, parse_labels
    from dockyard.sandbox.topology import default_topology

    given = {
        "etcd": etcd_port,
        "etcd_peer": etcd_peer_port,
        "apiserver": apiserver_port,
        "controller_manager": controller_manager_port,
        "scheduler": scheduler_port,
        "kwok": kwok_port,
        "metrics_server": metrics_server_port,
        "registry": registry_port,
        "dns": dns_port,
        "edge": edge_port,
        "edge_admin": edge_admin_port,
        "prometheus": prometheus_port,
        "alertmanager": alertmanager_port,
        "dns_ready": dns_ready_port,
        "dns_metrics": dns_metrics_port,
        "logs": logs_port,
    }
    layout = _layout_or_fail(directory, name)
    try:
        chosen = parse_labels(labels) if labels is not None else None
        wanted = resolve_topology(nodes, topology, idc=(chosen or {}).get("idc") if name else None)
        if name is not None and wanted is None and layout.read_state() is None:
            wanted = default_topology(8, idc=(chosen or {}).get("idc", name))
        ports = _ports(layout, {k: v for k, v in given.items() if v is not None})
        if ports is None and name is not None and layout.read_state() is None:
            ports = Ports.pick_free()  # a named sandbox runs beside others: its own free ports
        if real_nodes is not None and real_nodes < 0:
            raise SandboxError(f"--real-nodes must be 0 or more (got {real_nodes})")
        result = cluster.up(
            layout,
            ports=ports,
            topology=wanted,
            labels=chosen,
            real_nodes=real_nodes,
            progress=lambda m: err().print(f"[dim]{m}[/dim]"),
        )
    except SandboxError as e:
        fail(e)
    started = ", ".join(result.started) or "nothing (all components were running)"
    console().print(
        f"sandbox{' ' + name if name else ''} up in {layout.root}: started {started}; "
        f"{result.nodes} nodes ({result.nodes_created} created, {result.nodes_deleted} deleted)"
        + (f"; real nodes: {', '.join(result.real_nodes)}" if result.real_nodes else "")
    )
    console().print(f"kubeconfig: {layout.kubeconfig}")


def _ports(layout: Layout, given: dict[str, int]) -> Ports | None:
    from dockyard.sandbox.layout import Ports

    if not given:
        return None
    state = layout.read_state() or {}
    base = state.get("ports", {})
    return Ports.from_dict({**base, **given})


@app.command()
def down(
    directory: DirOption = None,
    name: NameOption = None,
    purge: Annotated[bool, typer.Option("--purge", help="Also delete the sandbox directory (data, PKI, logs)")] = False,
) -> None:
    """Stop the sandbox's own processes (by pid) and its real nodes (the host put back as it was);
    with --purge, delete its directory too."""
    from dockyard.sandbox import cluster, realnode

    layout = _layout_or_fail(directory, name)
    stopped = cluster.down(layout)
    console().print(f"stopped: {', '.join(stopped) or 'nothing was running'}")
    if purge and layout.root.exists():
        realnode.purge(layout)  # unmounts before deleting, never crossing into a mount
        shutil.rmtree(layout.root)
        console().print(f"deleted {layout.root}")


@app.command()
def status(directory: DirOption = None, name: NameOption = None) -> None:
    """Each component: healthy or not, pid, port, log path. Exits 1 unless all are healthy."""
    from rich.table import Table

    from dockyard.sandbox import cluster
    from dockyard.sandbox.errors import SandboxError

    layout = _layout_or_fail(directory, name)
    try:
        rows = cluster.status(layout)
    except SandboxError as e:
        fail(e)
    table = Table("component", "state", "pid", "port", "log")
    for row in rows:
        state = "healthy" if row.healthy else ("unhealthy" if row.running else "stopped")
        color = "green" if row.healthy else "red"
        table.add_row(row.name, f"[{color}]{state}[/{color}]", str(row.pid or "-"), str(row.port), row.log)
    console().print(table)
    if not all(r.healthy for r in rows):
        raise typer.Exit(1)


@app.command()
def kubeconfig(directory: DirOption = None, name: NameOption = None) -> None:
    """Print the path of the sandbox's admin kubeconfig."""
    from dockyard.sandbox.errors import SandboxError

    layout = _layout_or_fail(directory, name)
    if not layout.kubeconfig.exists():
        fail(SandboxError(f"no sandbox in {layout.root}; start one with `dockyard sandbox up`"))
    print(layout.kubeconfig)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def kubectl(ctx: typer.Context, directory: DirOption = None, name: NameOption = None) -> None:
    """Run the sandbox's own kubectl on the sandbox: `dockyard sandbox kubectl -- get nodes`."""
    from dockyard.sandbox.binaries import cached_binaries
    from dockyard.sandbox.errors import SandboxError

    layout = _layout_or_fail(directory, name)
    if not layout.kubeconfig.exists():
        fail(SandboxError(f"no sandbox in {layout.root}; start one with `dockyard sandbox up`"))
    found = cached_binaries()
    if found is None:
        fail(SandboxError("the sandbox binaries are not built; run `dockyard sandbox build`"))
    binary = found.kubectl
    os.execv(str(binary), [str(binary), f"--kubeconfig={layout.kubeconfig}", *ctx.args])  # noqa: S606


@app.command("list")
def list_sandboxes() -> None:
    """The default sandbox and every named one: state, apiserver port, labels, nodes, kubeconfig."""
    from rich.table import Table

    from dockyard.sandbox import cluster
    from dockyard.sandbox.errors import SandboxError
    from dockyard.sandbox.layout import Layout, default_dir, sandboxes_dir

    table = Table("name", "state", "apiserver", "labels", "nodes", "kubeconfig")
    found = [("(default)", Layout(default_dir().absolute()))]
    base = sandboxes_dir()
    if base.is_dir():
        found += [(d.name, Layout(d.absolute())) for d in sorted(base.iterdir()) if (d / "sandbox.json").exists()]
    for label, layout in found:
        try:
            state = layout.read_state()
            rows = cluster.status(layout) if state is not None else []
        except SandboxError as e:
            table.add_row(label, f"[red]{e}[/red]", "-", "-", "-", "-")
            continue
        if state is None:
            continue
        healthy = sum(1 for r in rows if r.healthy)
        running = "up" if healthy == len(rows) else ("down" if not any(r.running for r in rows) else "degraded")
        labels = ",".join(f"{k}={v}" for k, v in sorted((state.get("labels") or {}).items())) or "-"
        nodes = sum(int(p.get("count", 0)) for p in (state.get("topology") or {}).get("pools", []))
        port = str((state.get("ports") or {}).get("apiserver", "-"))
        table.add_row(label, running, port, labels, str(nodes), str(layout.kubeconfig))
    console().print(table)


@app.command()
def build() -> None:
    """Build (or find in the cache) the pinned etcd, Kubernetes, kwok and metrics-server binaries."""
    from dockyard.sandbox.binaries import ensure_binaries
    from dockyard.sandbox.errors import SandboxError

    try:
        found = ensure_binaries(progress=err().print)
    except SandboxError as e:
        fail(e)
    for name in (
        "etcd",
        "kube_apiserver",
        "kube_controller_manager",
        "kube_scheduler",
        "kubectl",
        "kwok",
        "metrics_server",
        "kubelet",
        "kube_proxy",
    ):
        console().print(f"{name.replace('_', '-')}: {getattr(found, name)}")
