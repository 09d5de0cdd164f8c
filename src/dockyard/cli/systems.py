"""`dockyard system ...`: systems, each one namespace per cluster owning applications."""

from __future__ import annotations

from typing import Annotated

import typer

from dockyard.cli.client import segment
from dockyard.cli.common import ServerOpt, TokenOpt, client, k
from dockyard.cli.output import Format, OutputOpt, show

systems = typer.Typer(help="Systems: one namespace per cluster, owning applications.", no_args_is_help=True)
_COLUMNS = [
    ("NAME", k("name")),
    ("CPU QUOTA (m)", lambda s: s["quota"]["cpu_millis"] or "-"),
    ("MEMORY QUOTA (Mi)", lambda s: s["quota"]["memory_mib"] or "-"),
    ("DESCRIPTION", k("description")),
]


@systems.command("create")
def system_create(
    name: str,
    description: str = "",
    cpu_millis: Annotated[int, typer.Option(help="CPU quota per cluster, in millicores (0: none)")] = 0,
    memory_mib: Annotated[int, typer.Option(help="Memory quota per cluster, in MiB (0: none)")] = 0,
    output: OutputOpt = Format.table,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    body = {"name": name, "description": description, "quota": {"cpu_millis": cpu_millis, "memory_mib": memory_mib}}
    with client(server, token) as api:
        show(api.post("/api/v1/systems", body), output, _COLUMNS)


@systems.command("list")
def system_list(output: OutputOpt = Format.table, server: ServerOpt = None, token: TokenOpt = None) -> None:
    with client(server, token) as api:
        show(api.get("/api/v1/systems"), output, _COLUMNS)


@systems.command("show")
def system_show(name: str, output: OutputOpt = Format.table, server: ServerOpt = None, token: TokenOpt = None) -> None:
    with client(server, token) as api:
        show(api.get(f"/api/v1/systems/{segment(name)}"), output, _COLUMNS)


@systems.command("delete")
def system_delete(name: str, server: ServerOpt = None, token: TokenOpt = None) -> None:
    """Delete an empty system."""
    with client(server, token) as api:
        api.delete(f"/api/v1/systems/{segment(name)}")
    print(f"system {name} deleted")
