"""How the CLI reports failure: one clear line on stderr and a non-zero exit."""

from __future__ import annotations

import sys
from typing import NoReturn

import typer


def fail(error: Exception | str, *, code: int = 1) -> NoReturn:
    """Print ``error: <message>`` (plus a failed build's log tail) to stderr and exit ``code``."""
    print(f"error: {error}", file=sys.stderr)
    # Duck-typed (a sandbox BuildError has it) so that failing never imports the sandbox package.
    log_tail = getattr(error, "log_tail", "")
    if log_tail:
        print("--- last lines of the build log ---", file=sys.stderr)
        print(log_tail, file=sys.stderr)
    raise typer.Exit(code)
