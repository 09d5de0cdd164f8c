"""`dockyard stats`: resource statistics and chargeback (docs/statistics.md).

- ``stats show [SYSTEM[/APP[/GROUP]]]``: requested, used and billed CPU core-hours and memory GiB-hours,
  efficiency and cost of a period, at ``--level`` (default one below the target);
- ``stats growth``: the applications whose requests grew most;
- ``stats without-nodes CLUSTER --count N`` (or ``--node``): which groups would not fit;
- ``stats prices`` and ``stats set-price CLUSTER --core-hour P --gib-hour P``.

``-o table`` (default), ``wide``, ``json`` (the API's answer), ``yaml`` or ``csv`` (every field of
every row, exact integers included).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys
from collections.abc import Sequence
from enum import StrEnum
from typing import Annotated, Any

import typer

from dockyard.cli.common import ServerOpt, TokenOpt, client
from dockyard.cli.errors import fail
from dockyard.cli.output import Column, Format, show

stats = typer.Typer(help="Resource statistics and chargeback.", no_args_is_help=True)


class StatsFormat(StrEnum):
    table = "table"
    wide = "wide"
    json = "json"
    yaml = "yaml"
    csv = "csv"


OutOpt = Annotated[StatsFormat, typer.Option("--output", "-o", help="table, wide, json, yaml or csv")]
FromOpt = Annotated[str | None, typer.Option("--from", help="first UTC day, YYYY-MM-DD (default: 29 days before --to)")]
ToOpt = Annotated[str | None, typer.Option("--to", help="last UTC day (default: today)")]
_DEFAULT_LEVEL = {0: "system", 1: "app", 2: "group", 3: "instance"}


def _day(option: str, text: str | None) -> str | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        fail(f"{option} {text!r}: give a day as YYYY-MM-DD")


def _path(target: str | None) -> tuple[str, int]:
    if not target:
        return "/api/v1/statistics", 0
    parts = target.split("/")
    if len(parts) > 3 or not all(parts):
        fail(f"{target!r}: give SYSTEM, SYSTEM/APP or SYSTEM/APP/GROUP")
    path = f"/api/v1/systems/{parts[0]}"
    if len(parts) > 1:
        path += f"/apps/{parts[1]}"
    if len(parts) > 2:
        path += f"/groups/{parts[2]}"
    return path + "/statistics", len(parts)


def _emit(
    data: Any, rows: Sequence[dict[str, Any]], fmt: StatsFormat, columns: Sequence[Column], wide: Sequence[Column]
) -> None:
    if fmt is StatsFormat.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        if rows:
            writer.writerow(list(rows[0]))
            for row in rows:
                writer.writerow(["" if v is None else v for v in row.values()])
        return
    if fmt is StatsFormat.json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return
    show(data if fmt is StatsFormat.yaml else list(rows), Format(fmt.value), columns, wide)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _where(row: dict[str, Any]) -> str:
    parts = [row[k] for k in ("system", "app", "group") if row[k]]
    where = "/".join(parts) or "-"
    if row["instance"]:
        where += f" {row['instance']}"
    if row["cluster"]:
        where += f" @{row['cluster']}"
    elif row["idc"]:
        where += f" idc={row['idc']}"
    return where


ROWS: list[Column] = [
    ("DAY", lambda r: r["day"] or "-"),
    ("WHAT", _where),
    ("IDC", lambda r: r["idc"] or "-"),
    ("CPU REQ (core-h)", lambda r: r["cpu_requested_core_hours"]),
    ("CPU USED", lambda r: r["cpu_used_core_hours"]),
    ("CPU EFF", lambda r: _pct(r["cpu_efficiency"]) + (" low" if r["low_efficiency"] else "")),
    ("MEM REQ (GiB-h)", lambda r: r["memory_requested_gib_hours"]),
    ("MEM USED", lambda r: r["memory_used_gib_hours"]),
    ("MEM EFF", lambda r: _pct(r["memory_efficiency"])),
    ("COST", lambda r: r["cost"] if r["cost"] is not None else "-"),
]
WIDE: list[Column] = [
    ("CPU BILLED", lambda r: r["cpu_billed_core_hours"]),
    ("MEM BILLED", lambda r: r["memory_billed_gib_hours"]),
    ("UNMEASURED (s)", lambda r: r["unmeasured"]),
]


@stats.command("show")
def stats_show(
    target: Annotated[str | None, typer.Argument(metavar="[SYSTEM[/APP[/GROUP]]]")] = None,
    level: Annotated[
        str | None, typer.Option(help="group, app, system, cluster, idc, instance (default: one below the target)")
    ] = None,
    first: FromOpt = None,
    last: ToOpt = None,
    daily: Annotated[bool, typer.Option(help="one row per day")] = False,
    by_cluster: Annotated[bool, typer.Option("--by-cluster", help="split rows per cluster")] = False,
    output: OutOpt = StatsFormat.table,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Requested, used and billed resources, efficiency and cost of a period."""
    path, depth = _path(target)
    params = {
        "level": level or _DEFAULT_LEVEL[depth],
        "from": _day("--from", first),
        "to": _day("--to", last),
        "daily": "true" if daily else None,
        "by_cluster": "true" if by_cluster else None,
    }
    with client(server, token) as api:
        found = api.get(path, **params)
    if output is StatsFormat.table and not found["rows"]:
        print(f"no statistics from {found['first']} to {found['last']}", file=sys.stderr)
    _emit(found, found["rows"], output, ROWS if daily else ROWS[1:], WIDE)


@stats.command("growth")
def stats_growth(
    first: FromOpt = None,
    last: ToOpt = None,
    limit: Annotated[int, typer.Option(help="how many applications")] = 10,
    output: OutOpt = StatsFormat.table,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """The applications whose requested CPU grew most from the period's first day to its last."""
    with client(server, token) as api:
        found = api.get(
            "/api/v1/statistics/growth", **{"from": _day("--from", first), "to": _day("--to", last), "limit": limit}
        )
    columns: list[Column] = [
        ("APP", lambda r: f"{r['system']}/{r['app']}"),
        ("CPU FIRST (core-h)", lambda r: r["cpu_first_core_hours"]),
        ("CPU LAST", lambda r: r["cpu_last_core_hours"]),
        ("CPU GROWTH", lambda r: r["cpu_growth_core_hours"]),
        ("MEM GROWTH (GiB-h)", lambda r: r["memory_growth_gib_hours"]),
    ]
    _emit(found, found["rows"], output, columns, ())


@stats.command("without-nodes")
def stats_without_nodes(
    cluster: Annotated[str, typer.Argument(metavar="CLUSTER")],
    count: Annotated[int, typer.Option(help="lose this many of the largest nodes")] = 1,
    node: Annotated[list[str] | None, typer.Option(help="lose these nodes instead")] = None,
    output: OutOpt = StatsFormat.table,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Which groups' instances would find no room if CLUSTER lost nodes (platform admins)."""
    with client(server, token) as api:
        found = api.get(f"/api/v1/clusters/{cluster}/statistics/without-nodes", count=count, node=node or None)
    print(f"losing {', '.join(found['nodes'])}:", file=sys.stderr)
    columns: list[Column] = [
        ("GROUP", lambda r: f"{r['system']}/{r['app']}/{r['group']}"),
        ("DISPLACED", lambda r: r["instances"]),
        ("FIT", lambda r: r["fit"]),
        ("FITS", lambda r: "yes" if r["fits"] else "NO"),
        ("WHY", lambda r: r["reason"] or "-"),
    ]
    _emit(found, found["groups"], output, columns, ())


@stats.command("prices")
def stats_prices(output: OutOpt = StatsFormat.table, server: ServerOpt = None, token: TokenOpt = None) -> None:
    """Every cluster's prices per core-hour and per GiB-hour, each from its day on."""
    with client(server, token) as api:
        found = api.get("/api/v1/prices")
    columns: list[Column] = [
        ("CLUSTER", lambda r: r["cluster"]),
        ("SINCE", lambda r: r["since"]),
        ("PER CORE-HOUR", lambda r: r["core_hour"]),
        ("PER GIB-HOUR", lambda r: r["gib_hour"]),
    ]
    _emit(found, found, output, columns, ())


@stats.command("set-price")
def stats_set_price(
    cluster: Annotated[str, typer.Argument(metavar="CLUSTER")],
    core_hour: Annotated[str, typer.Option("--core-hour", help="price per core-hour (decimal)")],
    gib_hour: Annotated[str, typer.Option("--gib-hour", help="price per GiB-hour of memory (decimal)")],
    since: Annotated[str | None, typer.Option(help="first UTC day it applies (default: today)")] = None,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Set CLUSTER's prices from a day on (platform admins)."""
    body = {"core_hour": core_hour, "gib_hour": gib_hour, "since": _day("--since", since)}
    with client(server, token) as api:
        found = api.put(f"/api/v1/clusters/{cluster}/price", body)
    print(
        f"{found['cluster']}: {found['core_hour']} per core-hour, {found['gib_hour']} per GiB-hour"
        f" from {found['since']}"
    )
