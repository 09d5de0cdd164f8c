"""`dockyard instance`: one instance of a group — restart it, its log's tail, its events.

dockyard instance restart shop/web/prod web-prod-7d9c-x2x4z     # delete its pod; the group starts another
dockyard instance logs shop/web/prod web-prod-7d9c-x2x4z --tail 100 [--previous]
dockyard instance events shop/web/prod web-prod-7d9c-x2x4z
"""

from __future__ import annotations

from typing import Annotated

import typer

from dockyard.cli.client import segment
from dockyard.cli.common import ServerOpt, TokenOpt, client, k
from dockyard.cli.output import Format, OutputOpt, show
from dockyard.cli.targets import GroupArg, group_path

instance = typer.Typer(help="One instance of a group: restart it, its log, its events.", no_args_is_help=True)
NameArg = Annotated[str, typer.Argument(help="The instance's name (see `dockyard instances GROUP`)")]


def _path(target: str, name: str) -> str:
    return f"{group_path(target)}/instances/{segment(name)}"


@instance.command("restart")
def restart(target: GroupArg, name: NameArg, server: ServerOpt = None, token: TokenOpt = None) -> None:
    """Restart an instance: delete its pod; the group starts a new one in its place."""
    with client(server, token) as api:
        api.post(f"{_path(target, name)}/restart", {})
    print(f"instance {name} of {target}: deleted; the group starts a new one")


@instance.command("logs")
def logs(
    target: GroupArg,
    name: NameArg,
    tail: Annotated[int, typer.Option("--tail", help="How many of the last lines (1-5000)")] = 200,
    previous: Annotated[bool, typer.Option("--previous", help="The container's previous run")] = False,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """The last lines of an instance's log."""
    with client(server, token) as api:
        body = api.get(f"{_path(target, name)}/logs", tail=tail, previous=str(previous).lower())
    for line in body["lines"]:
        print(line)


@instance.command("events")
def events(
    target: GroupArg,
    name: NameArg,
    output: OutputOpt = Format.table,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """What happened to an instance: scheduling, image pulls, probes, kills (oldest first)."""
    with client(server, token) as api:
        body = api.get(f"{_path(target, name)}/events")
    columns = [
        ("LAST", lambda e: e["last_at"] or ""),
        ("TYPE", k("type")),
        ("REASON", k("reason")),
        ("COUNT", k("count")),
        ("FROM", k("source")),
        ("MESSAGE", k("message")),
    ]
    show(body["items"], output, columns)
