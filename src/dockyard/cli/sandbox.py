"""`dockyard sandbox ...`: the local Kubernetes cluster (real control plane, KWOK nodes)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from dockyard.cli.errors import fail
from dockyard.sandbox import cluster
from dockyard.sandbox.binaries import cached_binaries, ensure_binaries
from dockyard.sandbox.errors import SandboxError
from dockyard.sandbox.layout import Layout, Ports, default_dir
from dockyard.sandbox.topology import Topology, default_topology, load_topology

app = typer.Typer(
    help="The local sandbox cluster: etcd, kube-apiserver, controller-manager, scheduler, KWOK nodes.",
    no_args_is_help=True,
)
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

DirOption = Annotated[Path | None, typer.Option("--dir", help="Sandbox directory [env DOCKYARD_SANDBOX_DIR]")]


def _layout(directory: Path | None) -> Layout:
    return Layout((directory or default_dir()).absolute())


def resolve_topology(nodes: int | None, topology_file: Path | None) -> Topology | None:
    """The topology asked for on the command line, or None to keep the sandbox's current one."""
    if nodes is not None and topology_file is not None:
        raise SandboxError("give either --nodes or --topology, not both")
    if topology_file is not None:
        return load_topology(topology_file)
    if nodes is not None:
        return default_topology(nodes)
    return None


@app.command()
def up(
    nodes: Annotated[int | None, typer.Option("--nodes", help="Spread N nodes over the default topology")] = None,
    topology: Annotated[Path | None, typer.Option("--topology", help="Topology YAML file (node pools)")] = None,
    directory: DirOption = None,
    etcd_port: Annotated[int | None, typer.Option(help="etcd client port [2379]")] = None,
    etcd_peer_port: Annotated[int | None, typer.Option(help="etcd peer port [2380]")] = None,
    apiserver_port: Annotated[int | None, typer.Option(help="kube-apiserver port [6443]")] = None,
    controller_manager_port: Annotated[int | None, typer.Option(help="kube-controller-manager port [10257]")] = None,
    scheduler_port: Annotated[int | None, typer.Option(help="kube-scheduler port [10259]")] = None,
    kwok_port: Annotated[int | None, typer.Option(help="KWOK (fake kubelets) port [10247]")] = None,
    metrics_server_port: Annotated[int | None, typer.Option(help="metrics-server port [4443]")] = None,
    registry_port: Annotated[int | None, typer.Option(help="image registry port [5000]")] = None,
) -> None:
    """Start the sandbox (idempotent: what already runs is left alone, what is missing is started)."""
    given = {
        "etcd": etcd_port,
        "etcd_peer": etcd_peer_port,
        "apiserver": apiserver_port,
        "controller_manager": controller_manager_port,
        "scheduler": scheduler_port,
        "kwok": kwok_port,
        "metrics_server": metrics_server_port,
        "registry": registry_port,
    }
    layout = _layout(directory)
    try:
        wanted = resolve_topology(nodes, topology)
        ports = _ports(layout, {k: v for k, v in given.items() if v is not None})
        result = cluster.up(layout, ports=ports, topology=wanted, progress=lambda m: err.print(f"[dim]{m}[/dim]"))
    except SandboxError as e:
        fail(e)
    started = ", ".join(result.started) or "nothing (all components were running)"
    console.print(
        f"sandbox up in {layout.root}: started {started}; "
        f"{result.nodes} nodes ({result.nodes_created} created, {result.nodes_deleted} deleted)"
    )
    console.print(f"kubeconfig: {layout.kubeconfig}")


def _ports(layout: Layout, given: dict[str, int]) -> Ports | None:
    if not given:
        return None
    state = layout.read_state() or {}
    base = state.get("ports", {})
    return Ports.from_dict({**base, **given})


@app.command()
def down(
    directory: DirOption = None,
    purge: Annotated[bool, typer.Option("--purge", help="Also delete the sandbox directory (data, PKI, logs)")] = False,
) -> None:
    """Stop the sandbox's own processes (by pid); with --purge, delete its directory too."""
    layout = _layout(directory)
    stopped = cluster.down(layout)
    console.print(f"stopped: {', '.join(stopped) or 'nothing was running'}")
    if purge and layout.root.exists():
        shutil.rmtree(layout.root)
        console.print(f"deleted {layout.root}")


@app.command()
def status(directory: DirOption = None) -> None:
    """Each component: healthy or not, pid, port, log path. Exits 1 unless all are healthy."""
    layout = _layout(directory)
    try:
        rows = cluster.status(layout)
    except SandboxError as e:
        fail(e)
    table = Table("component", "state", "pid", "port", "log")
    for row in rows:
        state = "healthy" if row.healthy else ("unhealthy" if row.running else "stopped")
        color = "green" if row.healthy else "red"
        table.add_row(row.name, f"[{color}]{state}[/{color}]", str(row.pid or "-"), str(row.port), row.log)
    console.print(table)
    if not all(r.healthy for r in rows):
        raise typer.Exit(1)


@app.command()
def kubeconfig(directory: DirOption = None) -> None:
    """Print the path of the sandbox's admin kubeconfig."""
    layout = _layout(directory)
    if not layout.kubeconfig.exists():
        fail(SandboxError(f"no sandbox in {layout.root}; start one with `dockyard sandbox up`"))
    print(layout.kubeconfig)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def kubectl(ctx: typer.Context, directory: DirOption = None) -> None:
    """Run the sandbox's own kubectl on the sandbox: `dockyard sandbox kubectl -- get nodes`."""
    layout = _layout(directory)
    if not layout.kubeconfig.exists():
        fail(SandboxError(f"no sandbox in {layout.root}; start one with `dockyard sandbox up`"))
    found = cached_binaries()
    if found is None:
        fail(SandboxError("the sandbox binaries are not built; run `dockyard sandbox build`"))
    binary = found.kubectl
    os.execv(str(binary), [str(binary), f"--kubeconfig={layout.kubeconfig}", *ctx.args])  # noqa: S606


@app.command()
def build() -> None:
    """Build (or find in the cache) the pinned etcd, Kubernetes, kwok and metrics-server binaries."""
    try:
        found = ensure_binaries(progress=err.print)
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
    ):
        console.print(f"{name.replace('_', '-')}: {getattr(found, name)}")
