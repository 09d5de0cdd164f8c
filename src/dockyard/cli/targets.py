"""What CLI commands are about, as typed on the command line: ``SYSTEM/APP/GROUP`` and its API path,
``KEY=VALUE`` pairs, a version spec file. Bad input is one error line and exit 1 (:func:`fail`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from dockyard.cli.client import segment
from dockyard.cli.errors import fail

GroupArg = Annotated[str, typer.Argument(metavar="SYSTEM/APP/GROUP")]
AppArg = Annotated[str, typer.Argument(metavar="SYSTEM/APP")]


def split(target: str, parts: int, what: str) -> list[str]:
    """``target``'s ``parts`` slash-separated names, none empty; else fail saying it is not ``what``."""
    pieces = target.split("/")
    if len(pieces) != parts or not all(pieces):
        fail(f"{target!r} is not {what}")
    return pieces


def app_path(target: str) -> str:
    """The API path of ``SYSTEM/APP``."""
    system, app = split(target, 2, "SYSTEM/APP")
    return f"/api/v1/systems/{segment(system)}/apps/{segment(app)}"


def group_path(target: str) -> str:
    """The API path of ``SYSTEM/APP/GROUP``."""
    system, app, group = split(target, 3, "SYSTEM/APP/GROUP")
    return f"/api/v1/systems/{segment(system)}/apps/{segment(app)}/groups/{segment(group)}"


def pairs(items: list[str], what: str) -> dict[str, str]:
    """``KEY=VALUE`` items as a dict (the value may be empty, the key may not)."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            fail(f"{what} {item!r} must be KEY=VALUE")
        out[key] = value
    return out


def load_spec(path: Path) -> Any:
    """A version spec from a YAML or JSON file (checked by the server, not here)."""
    import yaml

    try:
        return yaml.safe_load(path.read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        fail(f"cannot read spec {path}: {type(e).__name__}")


def what_to_deploy(
    version: int | None, spec: Path | None, changes: dict[str, Any], *, flags: str, required: bool = True
) -> dict[str, Any]:
    """The body's part saying what to deploy, as the API takes it: ``version``, ``spec`` (read from the
    file) or ``changes``. More than one given, or none when ``required``, fails naming the ``flags``
    that say changes (with none given and not required, the empty changes mean the latest as it is)."""
    given = sum(x is not None for x in (version, spec, changes or None))
    if given > 1 or (required and given == 0):
        fail(f"give --version, --spec, or changes ({flags})")
    if version is not None:
        return {"version": version}
    if spec is not None:
        return {"spec": load_spec(spec)}
    return {"changes": changes}
