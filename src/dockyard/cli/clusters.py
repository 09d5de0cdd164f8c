"""`dockyard cluster ...`: the Kubernetes clusters Dockyard deploys to (list, register, status)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dockyard.cli.client import segment
from dockyard.cli.common import ServerOpt, TokenOpt, client, k
from dockyard.cli.errors import fail
from dockyard.cli.output import Format, OutputOpt, show
from dockyard.cli.placement import cluster_status
from dockyard.cli.targets import pairs

clusters = typer.Typer(help="Registered Kubernetes clusters.", no_args_is_help=True)
_COLUMNS = [
    ("NAME", k("name")),
    ("LABELS", k("labels")),
    ("CONNECTED", k("connected")),
    ("DETAIL", k("detail")),
]


@clusters.command("list")
def cluster_list(output: OutputOpt = Format.table, server: ServerOpt = None, token: TokenOpt = None) -> None:
    with client(server, token) as api:
        show(api.get("/api/v1/clusters"), output, _COLUMNS)


clusters.command("status")(cluster_status)


@clusters.command("register")
def cluster_register(
    name: str,
    kubeconfig: Annotated[
        Path | None,
        typer.Option(help="A kubeconfig file here: its context is sent with its credentials embedded"),
    ] = None,
    context: Annotated[str | None, typer.Option(help="The kubeconfig's context to use [its current one]")] = None,
    in_cluster: Annotated[
        bool, typer.Option("--in-cluster", help="The cluster the server runs in (its pod's service account)")
    ] = False,
    label: Annotated[list[str] | None, typer.Option(help="idc=..., provider=idc|cloud, region=...")] = None,
    output: OutputOpt = Format.table,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Register or update a cluster (platform admins). The server stores the kubeconfig sealed."""
    from dockyard.cli.kubeconfigs import read_kubeconfig
    from dockyard.domain.clusters import IN_CLUSTER

    if (kubeconfig is None) == (not in_cluster):
        fail("give --kubeconfig FILE or --in-cluster")
    content = IN_CLUSTER if kubeconfig is None else read_kubeconfig(kubeconfig, context=context)
    body = {"name": name, "kubeconfig": content, "labels": pairs(label or [], "label")}
    with client(server, token) as api:
        show(api.put(f"/api/v1/clusters/{segment(name)}", body), output, _COLUMNS)
