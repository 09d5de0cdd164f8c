"""Start, find and stop the sandbox's own processes, by pid file, never by name.

A pid file records the pid and the executable; a pid counts as ours only while ``/proc/<pid>/cmdline``
still starts with that executable and names our sandbox directory, so a recycled pid is never killed.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Running:
    pid: int
    executable: str


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """True if something listens on (or holds) ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def start(argv: list[str], *, pid_file: Path, log_file: Path, env: dict[str, str] | None = None) -> int:
    """Start ``argv`` in its own session with output appended to ``log_file``; record its pid."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        log.write(f"\n=== {time.strftime('%Y-%m-%dT%H:%M:%S')} starting: {' '.join(argv)}\n".encode())
        log.flush()
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
            close_fds=True,
        )
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    pid_file.write_text(json.dumps({"pid": proc.pid, "executable": argv[0]}))
    return proc.pid


def find(pid_file: Path, *, marker: str) -> Running | None:
    """The process recorded in ``pid_file`` if it still runs and its command line contains ``marker``."""
    try:
        record = json.loads(pid_file.read_text())
        pid, executable = int(record["pid"]), str(record["executable"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        cmdline = _cmdline(pid)
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None
    if state == "Z" or not cmdline or cmdline[0].decode(errors="replace") != executable:
        return None
    if not any(marker.encode() in part for part in cmdline):
        return None
    return Running(pid=pid, executable=executable)


def command_line(pid: int) -> list[str]:
    """The command line of process ``pid``, as it was started (empty if it is gone)."""
    try:
        parts = _cmdline(pid)
    except OSError:
        return []
    # /proc/<pid>/cmdline ends each argument with a NUL: the split leaves one empty string after them.
    return [part.decode(errors="replace") for part in parts[:-1]] if parts else []


def _cmdline(pid: int) -> list[bytes]:
    # Right after exec the kernel may briefly show an empty command line; look again.
    for _ in range(20):
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        if raw:
            return raw.split(b"\0")
        time.sleep(0.01)
    return []


def stop(pid_file: Path, *, marker: str, grace_seconds: float = 10.0) -> bool:
    """Stop the recorded process (TERM, then KILL after ``grace_seconds``); True if one was running."""
    running = find(pid_file, marker=marker)
    if running is None:
        pid_file.unlink(missing_ok=True)
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(running.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    while time.monotonic() < deadline and find(pid_file, marker=marker):
        _reap(running.pid)
        time.sleep(0.1)
    if find(pid_file, marker=marker):
        with contextlib.suppress(ProcessLookupError):
            os.kill(running.pid, signal.SIGKILL)
        deadline = time.monotonic() + 5.0  # until the kernel has released its ports
        while time.monotonic() < deadline and find(pid_file, marker=marker):
            _reap(running.pid)
            time.sleep(0.05)
    _reap(running.pid)
    pid_file.unlink(missing_ok=True)
    return True


def _reap(pid: int) -> None:
    # Our own children turn zombie until waited for; others' are not ours to reap.
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def rss_bytes(pid: int) -> int:
    """Resident set size of ``pid`` in bytes (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return 0
    return 0
