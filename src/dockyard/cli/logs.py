"""`dockyard logs`: a group's instances' logs, merged in time order.

    dockyard logs shop/web/prod                       # the last 100 lines
    dockyard logs shop/web/prod -f --grep ERROR       # and every later line, until Ctrl-C
    dockyard logs shop/web/prod --instance web-prod-7d9f-x2x4z --since 15m
    dockyard logs shop/web/prod --version 4 --tail 20
    dockyard logs shop/web/prod --history --grep 'timeout' --since 2d --level error

Each line reads ``TIME INSTANCE [vVERSION @CLUSTER] TEXT``. ``--history`` reads the log store instead
of the instances (``GET …/logs/search``): instances gone included, for the store's retention; the same
filters, plus ``--level``, ``--until`` and ``--limit`` (the newest N matches, printed in time order).

``--follow`` asks again every second with the resume point the server gave, so no line is printed
twice nor missed, across a restart of the server or instances started meanwhile (a release's new
ones) too. ``--grep`` is a plain text (not a pattern, never the store's query language), matched by
the server.
"""

from __future__ import annotations

import sys
import time
from typing import Annotated, Any

import typer

from dockyard.cli.client import Client
from dockyard.cli.common import ServerOpt, TokenOpt, client
from dockyard.cli.errors import fail
from dockyard.cli.targets import group_path

FOLLOW_EVERY = 1.0  # seconds between asks while following


def line_text(line: dict[str, Any]) -> str:
    """How a line prints: time, instance, version and cluster, then its text."""
    return f"{line['time']} {line['instance']} [v{line['version']} @{line['cluster']}] {line['text']}"


def logs(
    target: Annotated[str, typer.Argument(help="SYSTEM/APP/GROUP")],
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new lines until Ctrl-C")] = False,
    instance: Annotated[list[str] | None, typer.Option(help="Only this instance (repeatable)")] = None,
    version: Annotated[list[str] | None, typer.Option(help="Only instances of this version (repeatable)")] = None,
    since: Annotated[str | None, typer.Option(help="From this RFC 3339 time or this long ago (15m, 2h)")] = None,
    grep: Annotated[str | None, typer.Option(help="Only lines containing this text (plain, case-sensitive)")] = None,
    tail: Annotated[int | None, typer.Option(help="The last N lines first (default 100 without --since)")] = None,
    history: Annotated[
        bool, typer.Option("--history", help="Search the stored history (instances gone too) instead of the instances")
    ] = False,
    level: Annotated[list[str] | None, typer.Option(help="--history: only this level (error/warn/info/debug)")] = None,
    until: Annotated[str | None, typer.Option(help="--history: before this RFC 3339 time or this long ago")] = None,
    limit: Annotated[int | None, typer.Option(help="--history: the newest N matching lines [1000]")] = None,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """A group's logs: its instances' lines merged in time order, each tagged with instance, version, cluster."""
    if history:
        if follow or tail is not None:
            fail("--history searches what is stored: it takes neither --follow nor --tail (use --limit)")
        with client(server, token) as api:
            search(api, target, grep or "", instance, version, level, since, until, limit)
        return
    if level or until or limit is not None:
        fail("--level, --until and --limit go with --history")
    params: dict[str, Any] = {"instance": instance or None, "version": version or None, "since": since, "tail": tail}
    if grep:
        params["text"] = grep
    with client(server, token) as api:
        cursor, shown = show(api, group_path(target), params)
        if not follow:
            if not shown:  # say so: an empty output looks like a hang or a failure
                print(f"no log lines of {target} (its instances have written none that match)", file=sys.stderr)
            return
        try:
            while True:
                time.sleep(FOLLOW_EVERY)
                cursor, _ = show(api, group_path(target), {**params, "since": None, "tail": None, "after": cursor})
        except KeyboardInterrupt:
            return


def show(api: Client, path: str, params: dict[str, Any]) -> tuple[str, int]:
    """Print one answer's lines; the resume point after them and how many were printed."""
    got = api.get(f"{path}/logs", **params)
    for line in got["lines"]:
        print(line_text(line), flush=True)
    cursor: str = got["cursor"]
    return cursor or params.get("after") or "", len(got["lines"])


def search(
    api: Client,
    target: str,
    text: str,
    instance: list[str] | None,
    version: list[str] | None,
    level: list[str] | None,
    since: str | None,
    until: str | None,
    limit: int | None,
) -> None:
    """Print the stored lines that match, in time order; say so when none did or older ones were left out."""
    params: dict[str, Any] = {
        "q": text or None,
        "instance": instance or None,
        "version": version or None,
        "level": level or None,
        "since": since,
        "until": until,
        "limit": limit,
    }
    got = api.get(f"{group_path(target)}/logs/search", **params)
    for line in got["lines"]:
        print(line_text(line), flush=True)
    if not got["lines"]:
        print(f"no stored log lines of {target} match", file=sys.stderr)
    elif got["more"]:
        print(
            f"(the newest {len(got['lines'])} shown; older lines match too: "
            "narrow with --since/--until or raise --limit)",
            file=sys.stderr,
        )
