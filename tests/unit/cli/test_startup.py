"""The CLI starts as fast as kubectl: guarded by what gets imported, never by a timer.

Each check runs in a fresh interpreter (this test process has imported the whole server already).
A client command imports typer, httpx and small modules of its own; the server (FastAPI, uvicorn),
the database (SQLAlchemy, Alembic, drivers), Kubernetes (lightkube), the sandbox package and the
server's settings are imported only by the commands that use them (`server`, `up`, `db`, `sandbox`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SERVER_SIDE = (
    "fastapi",
    "starlette",
    "uvicorn",
    "sqlalchemy",
    "alembic",
    "asyncpg",
    "aiosqlite",
    "lightkube",
    "pydantic",  # typer 0.29 imports it for every parameter: kept below 0.29
    "pydantic_settings",
    "dockyard.api",
    "dockyard.adapters",
    "dockyard.services",
    "dockyard.sandbox",
    "dockyard.settings",
)
ROOT = Path(__file__).resolve().parents[3]

# Runs `dockyard ARGS...` in-process against a one-route HTTP server answering ``[]``, then prints the
# modules imported (as JSON on the last line).
_RUN = """
import http.server, json, sys, threading

class Answer(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"[]"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

server = http.server.HTTPServer(("127.0.0.1", 0), Answer)
threading.Thread(target=server.serve_forever, daemon=True).start()
import os
os.environ["DOCKYARD_SERVER"] = f"http://127.0.0.1:{server.server_address[1]}"

from dockyard.cli.main import app

try:
    app(sys.argv[1:], prog_name="dockyard")
except SystemExit as e:
    code = e.code
else:
    code = 0
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def _imported(*args: str, code: str = _RUN, token: bool = True) -> tuple[int, set[str]]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
        "DOCKYARD_TOKEN": "dy_test_token_not_a_real_one",
        "DOCKYARD_CLI_CONFIG": "/nonexistent/cli.yaml",
    }
    if not token:
        del env["DOCKYARD_TOKEN"]
        env["DOCKYARD_ADMIN_TOKEN_FILE"] = "/nonexistent/admin-token"
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    last = done.stdout.strip().splitlines()[-1]
    found = json.loads(last)
    return found["code"], set(found["modules"])


def _server_side(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == s or m.startswith(s + ".") for s in SERVER_SIDE))


_IMPORT_ONLY = (
    "import json, sys; import dockyard.cli.main; print(json.dumps({'code': 0, 'modules': list(sys.modules)}))"
)


def test_importing_the_cli_imports_nothing_of_the_server_nor_an_http_client() -> None:
    _, modules = _imported(code=_IMPORT_ONLY)
    assert _server_side(modules) == []
    assert not {"httpx", "rich", "yaml"} & modules


@pytest.mark.parametrize("args", [["--help"], ["system", "--help"], ["system", "list", "--help"], ["deploy", "--help"]])
def test_help_imports_nothing_of_the_server(args: list[str]) -> None:
    code, modules = _imported(*args)
    assert code == 0
    assert _server_side(modules) == []
    assert not {"httpx", "rich"} & modules


@pytest.mark.parametrize(
    "args",
    [
        ["system", "list"],
        ["cluster", "list", "-o", "wide"],
        ["group", "list", "shop/web", "-o", "json"],
        ["history", "shop/web/prod", "-o", "yaml"],
        ["release", "list", "shop/web/prod"],
        ["build", "list", "shop/web"],
    ],
)
def test_a_client_command_imports_its_http_client_and_nothing_of_the_server(args: list[str]) -> None:
    code, modules = _imported(*args)
    assert code == 0
    assert "httpx" in modules  # it did talk to the server
    assert _server_side(modules) == []
    assert "rich" not in modules  # a table written to a pipe is plain text
    assert "httpx._main" not in modules  # httpx's own command line (rich, click, pygments)


def test_the_local_admin_token_is_found_without_the_servers_settings() -> None:
    # A new user on the server's machine gives no token: the CLI reads the first admin's token file.
    code, modules = _imported("system", "list", token=False)
    assert code == 0
    assert "dockyard.local_paths" in modules
    assert _server_side(modules) == []


def test_a_usage_error_imports_nothing_of_the_server() -> None:
    code, modules = _imported("deploy", "not-a-group", "--instances", "x")
    assert code == 2
    assert _server_side(modules) == []
    assert "httpx" not in modules


def test_a_command_imports_only_its_own_command_module() -> None:
    _, modules = _imported("system", "list")
    commands = {m for m in modules if m.startswith("dockyard.cli.")}
    assert commands == {
        "dockyard.cli.main",
        "dockyard.cli.systems",
        "dockyard.cli.client",
        "dockyard.cli.common",
        "dockyard.cli.errors",
        "dockyard.cli.output",
    }
