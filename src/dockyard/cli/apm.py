"""`dockyard apm SYSTEM/APP/GROUP [--by version|method] [--since 5m] [--top N]`: a group's requests/s,
error ratio and p50/p90/p99 per version, or per method the top N by p99 and by traffic, read through the
server's APM API (Prometheus underneath; docs/apm.md)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from dockyard.cli.common import ServerOpt, TokenOpt, client
from dockyard.cli.output import Format, OutputOpt, show
from dockyard.cli.targets import GroupArg, group_path


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.1f}ms"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.2f}%"


def _columns(by: str) -> list[tuple[str, Any]]:
    key: list[tuple[str, Any]] = (
        [("VERSION", lambda r: r["key"].get("version", ""))]
        if by == "version"
        else [("METHOD", lambda r: r["key"].get("method", "")), ("ROUTE", lambda r: r["key"].get("route", ""))]
    )
    return [
        *key,
        ("REQ/S", lambda r: f"{r['rps']:.2f}"),
        ("ERRORS", lambda r: _ratio(r["error_ratio"])),
        ("P50", lambda r: _ms(r["p50"])),
        ("P90", lambda r: _ms(r["p90"])),
        ("P99", lambda r: _ms(r["p99"])),
    ]


def apm(
    target: GroupArg,
    by: Annotated[str, typer.Option(help="version, or method (the top N by p99, then by traffic)")] = "version",
    since: Annotated[str, typer.Option(help="The window of rates and quantiles: 1m, 5m, 1h")] = "5m",
    top: Annotated[int, typer.Option(help="N of the top-N tables (--by method)")] = 10,
    output: OutputOpt = Format.table,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """A group's application performance (requests/s, 5xx ratio, latency quantiles)."""
    with client(server, token) as api:
        answer = api.get(f"{group_path(target)}/apm", by=by, since=since, top=top)
    if output.structured:
        show(answer, output, [])
        return
    if by == "version":
        show(answer["rows"], output, _columns(by))
        return
    print(f"top {top} by p99 over {since}")
    show(answer["top_p99"], output, _columns(by))
    print(f"\ntop {top} by requests over {since}")
    show(answer["top_rps"], output, _columns(by))
