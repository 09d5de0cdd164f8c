"""Operations (deploys, scales, rollbacks, group deletions...): following one to its end, showing
one, and the history of a system, an application or a group.

An action command waits for its operation by default, showing its progress, and exits 1 when it
fails; ``--no-wait`` returns once the operation is accepted (the same flag on every long command).
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer

from dockyard.cli.client import Client, segment
from dockyard.cli.common import ServerOpt, TokenOpt, client, k
from dockyard.cli.errors import fail
from dockyard.cli.output import Format, OutputOpt, console, show
from dockyard.cli.targets import group_path

operations = typer.Typer(help="Operations (deploys, scales, rollbacks...).", no_args_is_help=True)
NoWait = Annotated[bool, typer.Option("--no-wait", help="Return once the operation is accepted")]


def follow(api: Client, target: str, operation: dict[str, Any], no_wait: bool) -> None:
    """Show the operation's progress until it ends; exit 1 if it failed (``no_wait``: say it was
    accepted and return)."""
    what = f"{operation['action']} of {target}" + (
        f" to version {operation['params']['version']}" if "version" in operation["params"] else ""
    )
    if no_wait:
        print(f"{what}: accepted as operation {operation['id']}")
        return
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    started = time.monotonic()
    # The server ends every operation by its deadline (+ a grace for a stuck runner); do not outwait it.
    give_up = started + int(operation["params"].get("deadline_seconds", 300)) + 180
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[ready]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console(), transient=True) as progress:
        task = progress.add_task(what, total=None, ready="")
        while operation["status"] not in ("succeeded", "failed"):
            if time.monotonic() > give_up:
                status, op_id = operation["status"], operation["id"]
                fail(f"{what}: still {status} after its deadline; see `dockyard operation show {op_id}`")
            time.sleep(0.5)
            operation = api.get(f"/api/v1/operations/{operation['id']}")
            if operation["action"] != "delete-group":
                status = api.get(group_path(target))["status"]
                progress.update(
                    task,
                    total=status["wanted"] or None,
                    completed=status["ready"],
                    ready=f"{status['ready']}/{status['wanted']} ready",
                )
    took = time.monotonic() - started
    if operation["status"] == "failed":
        fail(f"{what} failed after {took:.1f}s: {operation['error']}")
    print(f"{what} succeeded in {took:.1f}s (operation {operation['id']})")


@operations.command("show")
def operation_show(
    operation_id: str, output: OutputOpt = Format.table, server: ServerOpt = None, token: TokenOpt = None
) -> None:
    with client(server, token) as api:
        show(api.get(f"/api/v1/operations/{segment(operation_id)}"), output)


_HISTORY_COLUMNS = [
    ("STARTED", k("started_at")),
    ("ACTION", k("action")),
    ("TARGET", lambda o: "/".join(p for p in (o["system"], o["app"], o["group"]) if p)),
    ("VERSION", lambda o: o["params"].get("version")),
    ("ACTOR", k("actor")),
    ("STATUS", k("status")),
    ("ERROR", k("error")),
]
_HISTORY_WIDE = [("ID", k("id")), ("FINISHED", k("finished_at"))]


def history(
    target: Annotated[str, typer.Argument(metavar="SYSTEM[/APP[/GROUP]]")],
    limit: int = 50,
    output: OutputOpt = Format.table,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Operations, newest first: who did what, when, and how it ended."""
    parts = target.split("/")
    if not 1 <= len(parts) <= 3 or not all(parts):
        fail(f"{target!r} is not SYSTEM, SYSTEM/APP or SYSTEM/APP/GROUP")
    path = "/api/v1/systems/" + segment(parts[0])
    if len(parts) > 1:
        path += f"/apps/{segment(parts[1])}"
    if len(parts) > 2:
        path += f"/groups/{segment(parts[2])}"
    with client(server, token) as api:
        items = api.get(f"{path}/operations", limit=limit)
    show(items, output, _HISTORY_COLUMNS, _HISTORY_WIDE)
