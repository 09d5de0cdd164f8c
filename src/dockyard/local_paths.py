"""Where a Dockyard on this machine keeps its state, read without the settings machinery.

The CLI resolves the local admin token's file on every command that talks to a local server; loading
the server's settings (pydantic-settings) for that one path cost ~90 ms of a ~200 ms command. These
functions give the same answers as :class:`dockyard.settings.Settings` for the paths they cover
(environment over the YAML config file over defaults), which a unit test checks.
"""

from __future__ import annotations

import os
from pathlib import Path


def state_dir() -> Path:
    """``$DOCKYARD_STATE_DIR``, else ``~/.local/state/dockyard``."""
    return Path(os.environ.get("DOCKYARD_STATE_DIR", Path.home() / ".local" / "state" / "dockyard"))


def sources_dir() -> Path:
    """Where ``dockyard up`` lets builds take ``file://`` sources from: ``~/.local/share/dockyard/sources``
    (a local git repository there is a build source, with no git server; see docs/builds.md)."""
    return Path.home() / ".local" / "share" / "dockyard" / "sources"


def config_file() -> Path:
    """``$DOCKYARD_CONFIG``, else ``~/.config/dockyard/config.yaml``."""
    return Path(os.environ.get("DOCKYARD_CONFIG", Path.home() / ".config" / "dockyard" / "config.yaml"))


def admin_token_file() -> Path:
    """The first admin's token file as the server's settings say: ``$DOCKYARD_ADMIN_TOKEN_FILE``, else
    ``admin_token_file`` of the config file (if it exists and says so), else ``state_dir()/admin-token``.
    An unreadable or malformed config file counts as saying nothing (the server would refuse to start)."""
    given = os.environ.get("DOCKYARD_ADMIN_TOKEN_FILE")
    if given:
        return Path(given)
    config = config_file()
    if config.exists():
        import yaml  # only when there is a config file to read

        try:
            data = yaml.safe_load(config.read_text())
        except (OSError, yaml.YAMLError):
            data = None
        if isinstance(data, dict) and isinstance(data.get("admin_token_file"), str):
            return Path(data["admin_token_file"])
    return state_dir() / "admin-token"
