"""The ``dockyard`` command as a user runs it: a subprocess with an environment of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

DOCKYARD = str(Path(sys.executable).parent / "dockyard")


def run(env: dict[str, str], *args: str, ok: bool = True, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """``dockyard ARGS`` with ``env`` over this process's environment, 200 columns wide.

    ``ok``: assert that it exited 0 (showing its output if not); pass ``ok=False`` to check a failure.
    """
    done = subprocess.run(
        [DOCKYARD, *args],
        check=False,
        env={**os.environ, **env, "COLUMNS": "200"},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=180,
    )
    if ok:
        assert done.returncode == 0, f"{args}: {done.stdout}{done.stderr}"
    return done
