"""`dockyard edge ...`: a group's entry on the edge load balancer (SYSTEM/APP/GROUP).

``enable`` routes the group's global name (``<group>.<app>.<system>.dockyard.internal``) through the
edge to its Ready instances; ``disable`` takes the route away; ``show`` prints the entry and the
instances requests go to now, with their weights."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from dockyard.cli.common import ServerOpt, TokenOpt, client
from dockyard.cli.output import Format, OutputOpt, show
from dockyard.cli.targets import GroupArg, group_path

edge = typer.Typer(help="The edge load balancer's entry of a group (SYSTEM/APP/GROUP).", no_args_is_help=True)


def _upstreams(entry: dict[str, Any]) -> str:
    return ", ".join(f"{u['address']} v{u['version']} w{u['weight']}" for u in entry["upstreams"]) or "-"


_COLUMNS = [
    ("HOST", lambda e: e["host"]),
    ("ENABLED", lambda e: "yes" if e["enabled"] else "no"),
    ("PORT", lambda e: "-" if e["port"] is None else e["port"] or "(default)"),
    ("HEALTH", lambda e: e["health_path"] or "-"),
    ("INSTANCES", _upstreams),
]


@edge.command("show")
def edge_show(
    target: GroupArg, output: OutputOpt = Format.table, server: ServerOpt = None, token: TokenOpt = None
) -> None:
    """The group's global name, its entry and the instances requests go to now (weights included)."""
    with client(server, token) as api:
        show(api.get(f"{group_path(target)}/edge"), output, _COLUMNS)


@edge.command("enable")
def edge_enable(
    target: GroupArg,
    port: Annotated[
        str, typer.Option(help="the version's port to serve (default: the one named http, else the first TCP port)")
    ] = "",
    output: OutputOpt = Format.table,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Route the group's global name through the edge load balancer to its Ready instances."""
    with client(server, token) as api:
        show(api.put(f"{group_path(target)}/edge", {"port": port}), output, _COLUMNS)


@edge.command("disable")
def edge_disable(target: GroupArg, server: ServerOpt = None, token: TokenOpt = None) -> None:
    """Take the group's route off the edge load balancer."""
    with client(server, token) as api:
        api.delete(f"{group_path(target)}/edge")
    print(f"{target}: no edge entry")
