"""`dockyard up` brings the sandbox up, registers it as cluster `local` and serves /readyz — on each database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.integration.conftest import Sandbox, free_port

DOCKYARD = str(Path(sys.executable).parent / "dockyard")


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen([DOCKYARD, *args], env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT)


def _wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 90.0) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited {proc.returncode}:\n{log.read_text()}")
        try:
            response = httpx.get(url, timeout=5.0)
            if response.status_code in (200, 503):
                return response
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"no answer from {url}:\n{log.read_text()}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_up_registers_the_sandbox_as_local_and_readyz_reports_it(
    sandbox: Sandbox, database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        "DOCKYARD_SANDBOX_DIR": str(sandbox.layout.root),
        "DOCKYARD_DATABASE_URL": database_url,
        "DOCKYARD_STATE_DIR": str(tmp_path / "state"),
    }
    log = tmp_path / "server.log"
    proc = _start(["up", "--port", str(port)], env, log)
    try:
        response = _wait_ready(f"http://127.0.0.1:{port}/readyz", proc, log)
        body = response.json()
        assert response.status_code == 200, body
        assert body["database"] == {"ok": True, "detail": "sqlite" if "sqlite" in database_url else "postgresql"}
        assert body["clusters"] == {"local": {"ok": True, "detail": "ready"}}
        assert "starting " not in log.read_text()  # the sandbox was already up: nothing (re)started
        token = tmp_path / "state" / "admin-token"
        assert token.stat().st_mode & 0o777 == 0o600  # the first admin's token, for its owner only
        assert token.read_text().strip() not in log.read_text()
    finally:
        _stop(proc)

    # The server alone (no sandbox start) against the same database still knows cluster `local`.
    proc = _start(["server", "--port", str(port)], env, log)
    try:
        body = _wait_ready(f"http://127.0.0.1:{port}/readyz", proc, log).json()
        assert body["clusters"]["local"]["ok"] is True
    finally:
        _stop(proc)
