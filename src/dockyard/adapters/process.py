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
import os
import shutil
import signal
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

OnLine = Callable[[str], None]


async def run(
    argv: Sequence[str], *, cwd: Path | None = None, env: Mapping[str, str] | None = None, on_line: OnLine
) -> int:
    proc = await asyncio.create_subprocess_exec(
        *_dying_with_us(argv),
        cwd=cwd,
        env=dict(env) if env is not None else None,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
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


SETPRIV = shutil.which("setpriv")  # util-linux, in every Debian


def _dying_with_us(argv: Sequence[str]) -> list[str]:
    """``argv`` run so that it is killed when this process dies (kill -9 included): util-linux's
    ``setpriv --pdeathsig KILL`` sets PR_SET_PDEATHSIG and execs it. (A ``preexec_fn`` would do the
    same but forces a full fork of the server for every tool, which costs CPU a build needs.)"""
    if SETPRIV is None:
        return list(argv)
    return [SETPRIV, "--pdeathsig", "KILL", "--", *argv]


def base_env(**extra: str) -> dict[str, str]:
    """A small environment for tools: PATH, HOME, locale, and ``extra`` — not the server's own."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")}
    env.setdefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    env.update(extra)
    return env
