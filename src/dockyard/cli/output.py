"""How the CLI prints results: a table by default, or the API's JSON / YAML with ``-o``."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Annotated, Any

import typer
import yaml
from rich.console import Console
from rich.table import Table

console = Console(highlight=False)


class Format(StrEnum):
    table = "table"
    json = "json"
    yaml = "yaml"


OutputOpt = Annotated[Format, typer.Option("--output", "-o", help="table, json or yaml")]
Column = tuple[str, Callable[[dict[str, Any]], Any]]


def show(data: Any, fmt: Format, columns: Sequence[Column] | None = None) -> None:
    """Print ``data`` (a dict or a list of dicts) as ``fmt``; a table uses ``columns`` (title, getter)."""
    if fmt is Format.json:
        print(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    elif fmt is Format.yaml:
        print(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), end="")
    elif isinstance(data, list):
        table = Table(*(title for title, _ in columns or ()), box=None, pad_edge=False)
        for item in data:
            table.add_row(*(_cell(get(item)) for _, get in columns or ()))
        console.print(table)
    else:
        table = Table(box=None, show_header=False, pad_edge=False)
        rows = [(title, get(data)) for title, get in columns] if columns else list(data.items())
        for title, value in rows:
            table.add_row(title, _cell(value))
        console.print(table)


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
