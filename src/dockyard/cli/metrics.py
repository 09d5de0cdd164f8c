"""`dockyard top SYSTEM[/APP[/GROUP]]` and `dockyard metrics SYSTEM[/APP[/GROUP]]`: per-instance metrics
and their roll-ups, read through the server's metrics API (Prometheus underneath).

An empty answer prints the server's reason (no target, target down, series absent, rule not loaded)
on stderr and exits 1."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from dockyard.cli.client import segment
from dockyard.cli.common import ServerOpt, TokenOpt, client
from dockyard.cli.errors import fail
from dockyard.cli.output import Format, OutputOpt, plain_table, show

TargetArg = Annotated[str, typer.Argument(metavar="SYSTEM[/APP[/GROUP]]")]
# top's columns: (title, metric)
TOP = (
    ("CPU", "cpu"),
    ("RSS", "memory_rss"),
    ("CACHE", "memory_cache"),
    ("WORKING SET", "memory_working_set"),
    ("NET IN", "network_receive_bytes"),
    ("NET OUT", "network_transmit_bytes"),
)
_BELOW = {1: "app", 2: "group", 3: "instance"}  # what top lists, by how many names the target has
_NAME = {"app": ("app",), "group": ("group",), "instance": ("pod", "cluster")}


def metrics_path(target: str) -> tuple[str, int]:
    """The API path of ``SYSTEM[/APP[/GROUP]]``'s metrics and how many names it has."""
    pieces = target.split("/")
    if not 1 <= len(pieces) <= 3 or not all(pieces):
        fail(f"{target!r} is not SYSTEM, SYSTEM/APP or SYSTEM/APP/GROUP")
    path = f"/api/v1/systems/{segment(pieces[0])}"
    if len(pieces) > 1:
        path += f"/apps/{segment(pieces[1])}"
    if len(pieces) > 2:
        path += f"/groups/{segment(pieces[2])}"
    return f"{path}/metrics", len(pieces)


def quantity(value: float, unit: str) -> str:
    """A value for a table: cores with three decimals, bytes in binary units, others per second."""
    if unit == "cores":
        return f"{value:.3f}"
    if unit.startswith("bytes"):
        size = value
        for suffix in ("B", "KiB", "MiB", "GiB", "TiB"):
            if abs(size) < 1024 or suffix == "TiB":
                text = f"{size:.0f}{suffix}" if suffix == "B" else f"{size:.1f}{suffix}"
                return text + ("/s" if unit.endswith("/s") else "")
            size /= 1024
    return f"{value:.2f}/s"


def series_name(labels: dict[str, str], level: str) -> str:
    """The name of a series of ``level`` (a pod with its cluster, a group, an application...)."""
    keys = _NAME.get(level, (level,))
    main = labels.get(keys[0], "")
    extra = [labels[k] for k in keys[1:] if labels.get(k)]
    return f"{main} ({', '.join(extra)})" if extra else main


def top_rows(charts: dict[str, dict[str, Any]], level: str) -> list[list[str]]:
    """top's table rows: one per series name, a column per :data:`TOP` metric ("-" where absent)."""
    rows: dict[str, dict[str, str]] = {}
    for _, metric in TOP:
        chart = charts[metric]
        for s in chart["series"]:
            if s["points"]:
                value = quantity(s["points"][-1][1], chart["unit"])
                rows.setdefault(series_name(s["labels"], level), {})[metric] = value
    return [[name, *(cells.get(m, "-") for _, m in TOP)] for name, cells in sorted(rows.items())]


def top(
    target: TargetArg,
    output: OutputOpt = Format.table,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """The latest CPU, memory (rss, cache, working set) and network of a system's applications, an
    application's groups or a group's instances."""
    path, names = metrics_path(target)
    level = _BELOW[names]
    with client(server, token) as api:
        charts = {metric: api.get(path, metric=metric, level=level) for _, metric in TOP}
    if output.structured:
        show(charts, output)
        return
    rows = top_rows(charts, level)
    if not rows:
        empty = charts["cpu"].get("empty") or {}
        fail(f"no data for {target}: {empty.get('message', 'no series')}")
    for line in plain_table([level.upper(), *(title for title, _ in TOP)], rows):
        print(line)


def metrics(
    target: TargetArg,
    metric: Annotated[str, typer.Option(help="cpu, memory_rss, memory_cache, memory_working_set, ...")] = "cpu",
    level: Annotated[str | None, typer.Option(help="instance, group, app, system or idc")] = None,
    since: Annotated[str, typer.Option(help="how far back: 15m, 1h, 1d")] = "1h",
    step: Annotated[str | None, typer.Option(help="one point every: 30s, 1m (default: about 120 points)")] = None,
    output: OutputOpt = Format.table,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """A metric over time: for each series its latest, lowest, highest and mean value."""
    path, names = metrics_path(target)
    params: dict[str, Any] = {"metric": metric, "range": since, "level": level or _BELOW[names]}
    if step is not None:
        params["step"] = step
    with client(server, token) as api:
        chart = api.get(path, **params)
    if output.structured:
        show(chart, output)
        return
    if not chart["series"]:
        fail(f"no data for {target}: {(chart.get('empty') or {}).get('message', 'no series')}")
    unit = chart["unit"]
    rows = []
    for s in chart["series"]:
        values = [v for _, v in s["points"]]
        rows.append(
            [
                series_name(s["labels"], chart["level"]),
                quantity(values[-1], unit),
                quantity(min(values), unit),
                quantity(max(values), unit),
                quantity(sum(values) / len(values), unit),
                str(len(values)),
            ]
        )
    print(f"{chart['metric']} ({unit}) over {since}, by {chart['level']}")
    for line in plain_table([chart["level"].upper(), "LATEST", "MIN", "MAX", "MEAN", "POINTS"], sorted(rows)):
        print(line)
