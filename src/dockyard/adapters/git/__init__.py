"""git through its command line: clone a source into a private directory and check out one commit.

Errors (also the domain's ``SourceFailure``)::

    GitError            the clone or checkout failed (the message says which and why)
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from dockyard.adapters.process import OnLine, base_env, run
from dockyard.domain.failures import SourceFailure

GIT = "git"
ASKPASS = """#!/bin/sh
case "$1" in
  Username*) printf %s "$DOCKYARD_GIT_USER" ;;
  *) printf %s "$DOCKYARD_GIT_PASSWORD" ;;
esac
"""


class GitError(SourceFailure):
    pass


async def checkout(
    url: str, *, ref_kind: str, ref: str, into: Path, on_line: OnLine, username: str = "", password: str = ""
) -> str:
    """Clone ``url`` into ``into`` (a new directory) and check out the commit, branch or tag ``ref``;
    returns the full commit sha. Credentials, when given, reach git through ``GIT_ASKPASS`` (a script
    reading them from the environment), never its command line; hooks, templates and the user's and
    system's git configuration are off."""
    askpass = into.parent / "askpass.sh"
    askpass.write_text(ASKPASS)
    askpass.chmod(stat.S_IRWXU)
    env = base_env(
        GIT_ASKPASS=str(askpass),
        GIT_TERMINAL_PROMPT="0",
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        DOCKYARD_GIT_USER=username,
        DOCKYARD_GIT_PASSWORD=password,
        GIT_SSH_COMMAND="ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new",
    )
    safe = ["-c", "core.hooksPath=/dev/null", "-c", "protocol.ext.allow=never", "-c", "core.symlinks=true"]
    clone = [GIT, *safe, "clone", "--quiet", "--no-checkout", "--template=", "--", url, str(into)]
    if await run(clone, env=env, on_line=on_line) != 0:
        raise GitError("cannot clone the source (see the log)")
    target = ref if ref_kind == "commit" else (f"origin/{ref}" if ref_kind == "branch" else f"refs/tags/{ref}")
    lines: list[str] = []
    if (
        await run(
            [GIT, *safe, "rev-parse", "--verify", "--quiet", f"{target}^{{commit}}"],
            cwd=into,
            env=env,
            on_line=lines.append,
        )
        != 0
    ):
        raise GitError(f"{ref_kind} {ref!r} does not exist in the source")
    sha = lines[-1].strip() if lines else ""
    if await run([GIT, *safe, "checkout", "--quiet", "--detach", sha], cwd=into, env=env, on_line=on_line) != 0:
        raise GitError(f"cannot check out {sha}")
    return sha
