"""The sandbox's edge load balancer: Caddy, started with a minimal configuration that Dockyard then
changes only through Caddy's admin API (never a file, never a restart).

The configuration written here (``caddy.json`` in the sandbox directory) holds:

- the admin API on ``127.0.0.1:<edge_admin>`` only (whoever reaches it can reconfigure Caddy), with
  ``persist: false``: a restarted Caddy comes back with this file, not with what Dockyard wrote, and
  Dockyard's edge sync notices and writes its routes again;
- one HTTP server, :data:`SERVER`, on ``127.0.0.1:<edge>``, no automatic HTTPS, its one route a
  ``404`` until Dockyard writes the groups' routes (``adapters/edge/caddy.py``);
- HTTP metrics with per-host labels (``apps.http.metrics.per_host``), served by the admin API at
  ``/metrics`` (see docs/edge.md for the series);
- Caddy's storage (certificates it would manage, its instance id) inside the sandbox directory.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dockyard.sandbox.layout import Layout, Ports

SERVER = "edge"  # the name of the HTTP server Dockyard's routes live in (DOCKYARD_EDGE_SERVER)
NAME = "caddy"


def config_path(layout: Layout) -> Path:
    return layout.root / "caddy.json"


def data_dir(layout: Layout) -> Path:
    return layout.root / "caddy"


def config(layout: Layout, ports: Ports) -> dict[str, Any]:
    """Caddy's start-up configuration for the sandbox in ``layout`` (see the module docstring)."""
    return {
        "admin": {"listen": f"127.0.0.1:{ports.edge_admin}", "config": {"persist": False}},
        "logging": {"logs": {"default": {"level": "WARN"}}},
        "storage": {"module": "file_system", "root": str(data_dir(layout))},
        "apps": {
            "http": {
                "metrics": {"per_host": True},
                "servers": {
                    SERVER: {
                        "listen": [f"127.0.0.1:{ports.edge}"],
                        "automatic_https": {"disable": True},
                        "protocols": ["h1"],  # plain HTTP: HTTP/2 and HTTP/3 need TLS
                        "routes": [
                            {"handle": [{"handler": "static_response", "status_code": 404, "body": "no route\n"}]}
                        ],
                    }
                },
            }
        },
    }


def argv(layout: Layout, caddy: Path) -> list[str]:
    """Caddy's command line (the config path names the sandbox directory: how its pid is recognised)."""
    return [str(caddy), "run", "--config", str(config_path(layout))]


def env(layout: Layout) -> dict[str, str]:
    """Where Caddy may write besides its storage: inside the sandbox directory, never ``~``."""
    root = data_dir(layout)
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(root),
        "XDG_DATA_HOME": str(root / "data"),
        "XDG_CONFIG_HOME": str(root / "config"),
    }


def write_config(layout: Layout, ports: Ports) -> None:
    data_dir(layout).mkdir(parents=True, exist_ok=True, mode=0o700)
    config_path(layout).write_text(json.dumps(config(layout, ports), indent=2))
