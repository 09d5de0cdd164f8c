"""How the CLI reports failure: one clear line on stderr and a non-zero exit."""

from __future__ import annotations

import sys
from typing import NoReturn

import typer

from dockyard.sandbox.errors import BuildError


def fail(error: Exception | str, *, code: int = 1) -> NoReturn:
    """Print ``error: <message>`` (plus a failed build's log tail) to stderr and exit ``code``."""
    print(f"error: {error}", file=sys.stderr)
    if isinstance(error, BuildError) and error.log_tail:
        print("--- last lines of the build log ---", file=sys.stderr)
        print(error.log_tail, file=sys.stderr)
    raise typer.Exit(code)
