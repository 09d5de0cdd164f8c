"""Running a tool as an asyncio subprocess, its output streamed line by line.

Contract of :func:`run`: stdout and stderr are merged and each line (decoded, without its newline) is
given to ``on_line`` as it comes; the exit code is returned. When the awaiting task is cancelled (a
cancel, a timeout around it) the process's whole session is killed before the cancellation goes on,
so nothing the tool started outlives it; if the server itself dies (kill -9 included) the tool gets
SIGKILL (PR_SET_PDEATHSIG). The command line never holds credentials: callers pass them through
files or the environment.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

OnLine = Callable[[str], None]


async def run(
    argv: Sequence[str], *, cwd: Path | None = None, env: Mapping[str, str] | None = None, on_line: OnLine
) -> int:
    proc = await asyncio.create_subprocess_exec(
        *argv,
        cwd=cwd,
        env=dict(env) if env is not None else None,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=_die_with_parent,
    )
    try:
        assert proc.stdout is not None
        while True:
            raw = await proc.stdout.readline()
            if not raw:
                break
            on_line(raw.decode(errors="replace").rstrip("\r\n"))
        return await proc.wait()
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(Exception):
                await asyncio.shield(proc.wait())


_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child before exec: be killed when the server dies (kill -9 included), so no build tool
    outlives the process that drives it."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def base_env(**extra: str) -> dict[str, str]:
    """A small environment for tools: PATH, HOME, locale, and ``extra`` — not the server's own."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")}
    env.setdefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    env.update(extra)
    return env
