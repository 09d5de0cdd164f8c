"""Version specs the tests deploy, as API bodies. Tests change them with ``{**SPEC, "instances": 5}``."""

from __future__ import annotations

from typing import Any

# A small web service: one port, an env var, a config file and a readiness probe.
WEB: dict[str, Any] = {
    "image": "registry.local/shop/web:1",
    "flavor": "small",
    "instances": 3,
    "ports": [{"name": "http", "port": 8080}],
    "env": {"MODE": "prod"},
    "config_files": {"app.yaml": "greeting: hello\n"},
    "readiness": {"port": 8080, "path": "/healthz"},
}

# The least a version needs: one small instance of an image.
MINIMAL: dict[str, Any] = {"image": "registry.local/shop/web:1", "flavor": "small", "instances": 1}

# Three tiny instances with a port and a config file: cheap to run and still a whole rollout.
TINY: dict[str, Any] = {
    "image": "registry.local/shop/web:1",
    "flavor": "tiny",
    "instances": 3,
    "ports": [{"name": "http", "port": 8080}],
    "config_files": {"app.yaml": "a: 1\n"},
}
