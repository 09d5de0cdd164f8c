"""`dockyard audit`: read the audit trail and verify its hash chain."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

import typer

from dockyard.cli.common import ServerOpt, TokenOpt
from dockyard.cli.common import client as _client
from dockyard.cli.errors import fail
from dockyard.cli.output import Format, OutputOpt, show

app = typer.Typer(help="The audit trail: who did what, when, from where, and how it ended.", no_args_is_help=True)

_AGO = re.compile(r"(\d+)([smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def moment(value: str, *, now: dt.datetime | None = None) -> str:
    """An ISO time for the API: ``value`` as given if it is one, or ``30m``/``2h``/``7d`` ago."""
    ago = _AGO.fullmatch(value)
    if ago:
        now = now or dt.datetime.now(dt.UTC)
        return (now - dt.timedelta(seconds=int(ago[1]) * _UNITS[ago[2]])).isoformat()
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        fail(f"{value!r} is neither an ISO time (2026-11-23T10:00:00Z) nor an age like 30m, 2h or 7d")
    return value


def _target(entry: dict[str, Any]) -> str:
    return "/".join(str(v) for v in entry["target"].values())


def _changes(entry: dict[str, Any]) -> str:
    changes = entry["changes"] or {}
    values = changes.get("values", {})
    return ", ".join(f"{f}={values[f]}" if f in values else f for f in changes.get("fields", []))


_COLUMNS = [
    ("SEQ", lambda e: e["seq"]),
    ("TIME", lambda e: e["at"]),
    ("ACTOR", lambda e: e["actor"] or "-"),
    ("SOURCE", lambda e: e["source_ip"]),
    ("ACTION", lambda e: e["action"]),
    ("TARGET", _target),
    ("OUTCOME", lambda e: e["outcome"]),
    ("STATUS", lambda e: e["status"]),
    ("REASON", lambda e: e["reason"]),
    ("CHANGES", _changes),
]


@app.command("list")
def audit_list(
    system: Annotated[str | None, typer.Option(help="Entries of this system (owners must give one)")] = None,
    user: Annotated[str | None, typer.Option(help="Entries of this user")] = None,
    action: Annotated[str | None, typer.Option(help="A route's name, e.g. create_group, deploy")] = None,
    outcome: Annotated[str | None, typer.Option(help="allowed, denied or error")] = None,
    since: Annotated[str | None, typer.Option(help="ISO time, or an age: 30m, 2h, 7d")] = None,
    until: Annotated[str | None, typer.Option(help="ISO time, or an age: 30m, 2h, 7d")] = None,
    limit: Annotated[int, typer.Option(help="At most this many, 1-500")] = 50,
    cursor: Annotated[int | None, typer.Option(help="Entries older than this seq (paging)")] = None,
    output: OutputOpt = Format.table,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Audit entries, newest first."""
    params = {
        "system": system,
        "user": user,
        "action": action,
        "outcome": outcome,
        "since": moment(since) if since else None,
        "until": moment(until) if until else None,
        "limit": limit,
        "cursor": cursor,
    }
    with _client(server, token) as client:
        page = client.get("/api/v1/audit", **params)
    if output.structured:
        show(page, output)
        return
    show(page["items"], output, _COLUMNS)
    if page["next_cursor"] is not None:
        print(f"(more: --cursor {page['next_cursor']})")


@app.command("verify")
def audit_verify(output: OutputOpt = Format.table, server: ServerOpt = None, token: TokenOpt = None) -> None:
    """Check the hash chain (platform admins); exits 1 naming the first bad entry when it is broken."""
    with _client(server, token) as client:
        result = client.get("/api/v1/audit/verify")
    if output.structured:
        show(result, output)
    elif result["ok"]:
        head = result["head"]
        print(f"the audit trail is intact: {result['checked']} entries; head {head['seq']} {head['hash']}")
    if not result["ok"]:
        bad = result["first_bad"]
        fail(f"the audit trail is broken at entry {bad['seq']}: {bad['reason']}")
