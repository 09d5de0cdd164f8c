"""A throwaway PostgreSQL server for the test run, from Debian's packages, on a loopback port.

Used by the integration fixtures (start) and by scripts/test's exit trap (``python -m
tests.integration.harness.postgres stop DIR``), so the server is stopped even if pytest is killed.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    pass


def bindir() -> Path:
    """The newest ``/usr/lib/postgresql/<version>/bin`` that has ``initdb``."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if not found:
        raise PostgresUnavailable(
            "PostgreSQL server not installed (Debian package postgresql); run scripts/setup --test"
        )
    return found[-1].parent


def _as_owner(args: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root; Debian's package creates the user postgres.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


def start(root: Path, port: int) -> str:
    """Initialise and start a server under ``root``; returns an asyncpg SQLAlchemy URL for it."""
    bin_ = bindir()
    data = root / "data"
    root.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(root, user.pw_uid, user.pw_gid)
    if not data.exists():
        init = subprocess.run(
            _as_owner([str(bin_ / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]),
            check=False,
            capture_output=True,
            text=True,
        )
        if init.returncode != 0:
            raise PostgresUnavailable(f"initdb failed: {init.stderr.strip()[-1000:]}")
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
    result = subprocess.run(
        _as_owner(
            [str(bin_ / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "server.log"), "-w", "start"]
        ),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        log = (root / "server.log").read_text(errors="replace")[-2000:] if (root / "server.log").exists() else ""
        raise PostgresUnavailable(f"pg_ctl start failed: {result.stderr.strip()}\n{log}")
    return f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres"


def stop(root: Path) -> None:
    data = root / "data"
    if not data.exists():
        return
    subprocess.run(
        _as_owner([str(bindir() / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
        capture_output=True,
        check=False,
    )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "stop":
        stop(Path(sys.argv[2]))
        shutil.rmtree(sys.argv[2], ignore_errors=True)
    else:
        sys.exit("usage: python -m tests.integration.harness.postgres stop DIR")
