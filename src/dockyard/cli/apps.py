"""`dockyard app ...`: applications in a system, addressed as ``SYSTEM/APP``."""

from __future__ import annotations

from typing import Annotated

import typer

from dockyard.cli.client import segment
from dockyard.cli.common import ServerOpt, TokenOpt, client, k
from dockyard.cli.output import Format, OutputOpt, show
from dockyard.cli.targets import AppArg, app_path, split

apps = typer.Typer(help="Applications in a system (SYSTEM/APP).", no_args_is_help=True)
_COLUMNS = [
    ("SYSTEM", k("system")),
    ("NAME", k("name")),
    ("REPOSITORY", k("repository")),
    ("BUSINESS ID", k("business_id")),
    ("OWNERS", lambda a: ", ".join(a["owners"])),
]
_WIDE = [("LOCATION", lambda a: ",".join(f"{k}={v}" for k, v in (a.get("location") or {}).items()) or "-")]


@apps.command("create")
def app_create(
    target: AppArg,
    repository: Annotated[str, typer.Option(help="Image repository, e.g. registry.local/shop/web")],
    business_id: str = "",
    owner: Annotated[list[str] | None, typer.Option(help="An owner (repeatable)")] = None,
    output: OutputOpt = Format.table,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    system, name = split(target, 2, "SYSTEM/APP")
    body = {"name": name, "repository": repository, "business_id": business_id, "owners": owner or []}
    with client(server, token) as api:
        show(api.post(f"/api/v1/systems/{segment(system)}/apps", body), output, _COLUMNS)


@apps.command("list")
def app_list(system: str, output: OutputOpt = Format.table, server: ServerOpt = None, token: TokenOpt = None) -> None:
    with client(server, token) as api:
        show(api.get(f"/api/v1/systems/{segment(system)}/apps"), output, _COLUMNS, _WIDE)


@apps.command("show")
def app_show(
    target: AppArg, output: OutputOpt = Format.table, server: ServerOpt = None, token: TokenOpt = None
) -> None:
    with client(server, token) as api:
        show(api.get(app_path(target)), output, _COLUMNS, _WIDE)


@apps.command("delete")
def app_delete(target: AppArg, server: ServerOpt = None, token: TokenOpt = None) -> None:
    """Delete an application without groups."""
    path = app_path(target)
    with client(server, token) as api:
        api.delete(path)
    print(f"application {target} deleted")
