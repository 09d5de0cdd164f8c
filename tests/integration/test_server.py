"""`dockyard up` brings the sandbox up, registers it as cluster `local` and serves /readyz."""

from __future__ import annotations

from pathlib import Path

from tests.integration.harness.sandboxes import Sandbox, free_port
from tests.integration.harness.servers import ServerProcess


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
    server = ServerProcess.start(env, log, command="up", port=port)
    try:
        response = server.wait_ready()
        body = response.json()
        assert response.status_code == 200, body
        assert body["database"] == {"ok": True, "detail": "sqlite"}
        assert body["clusters"] == {"local": {"ok": True, "detail": "ready"}}
        assert "starting " not in log.read_text()  # the sandbox was already up: nothing (re)started
        token = tmp_path / "state" / "admin-token"
        assert token.stat().st_mode & 0o777 == 0o600  # the first admin's token, for its owner only
        assert token.read_text().strip() not in log.read_text()
    finally:
        server.stop()

    # The server alone (no sandbox start) against the same database still knows cluster `local`.
    server = ServerProcess.start(env, log, port=port)
    try:
        body = server.wait_ready().json()
        assert body["clusters"]["local"]["ok"] is True
    finally:
        server.stop()
