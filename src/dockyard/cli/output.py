"""How the CLI prints results: a table by default, or the API's JSON / YAML with ``-o``.

A table on a terminal fits its width (rich may shorten cells); a table written anywhere else (a
pipe, a file) and ``-o wide`` are plain text with every cell whole, like ``kubectl get``: columns
left-aligned, three spaces apart, no trailing spaces. ``-o wide`` adds the command's extra columns.
rich is imported only to draw on a terminal, so piped output and ``--help`` do not pay for it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from rich.console import Console


class Format(StrEnum):
    table = "table"
    wide = "wide"
    json = "json"
    yaml = "yaml"

    @property
    def structured(self) -> bool:
        """JSON or YAML: the API's answer as it is, not a table."""
        return self in (Format.json, Format.yaml)


OutputOpt = Annotated[
    Format, typer.Option("--output", "-o", help="table, wide (more columns, never cut), json or yaml")
]
Column = tuple[str, Callable[[dict[str, Any]], Any]]
GAP = "   "


@cache
def console() -> Console:
    """Standard output through rich (progress displays, colour); made on first use."""
    from rich.console import Console

    return Console(highlight=False)


def show(data: Any, fmt: Format, columns: Sequence[Column] | None = None, wide: Sequence[Column] = ()) -> None:
    """Print ``data`` (a dict or a list of dicts) as ``fmt``; a table uses ``columns`` (title, getter),
    ``-o wide`` those and ``wide``."""
    if fmt is Format.json:
        print(json.dumps(data, indent=2, ensure_ascii=False, default=str))
        return
    if fmt is Format.yaml:
        import yaml

        print(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), end="")
        return
    chosen = [*(columns or ()), *(wide if fmt is Format.wide else ())]
    if isinstance(data, list):
        header: list[str] | None = [title for title, _ in chosen]
        rows = [[_cell(get(item)) for _, get in chosen] for item in data]
    else:
        header = None
        pairs = [(title, get(data)) for title, get in chosen] if chosen else list(data.items())
        rows = [[title, _cell(value)] for title, value in pairs]
    if fmt is Format.table and sys.stdout.isatty():
        _rich_table(header, rows)
    else:
        for line in plain_table(header, rows):
            print(line)


def plain_table(header: Sequence[str] | None, rows: Sequence[Sequence[str]]) -> list[str]:
    """The lines of a table with every cell whole: columns as wide as their widest cell, ``GAP``
    between them, no trailing spaces (what ``kubectl get`` prints)."""
    lines = [list(header), *rows] if header is not None else [list(r) for r in rows]
    if not lines:
        return []
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    return [GAP.join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip() for line in lines]


def _rich_table(header: Sequence[str] | None, rows: Sequence[Sequence[str]]) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(*(header or ()), box=None, pad_edge=False, show_header=header is not None)
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))  # a cell is text, never rich markup
    console().print(table)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def age(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
