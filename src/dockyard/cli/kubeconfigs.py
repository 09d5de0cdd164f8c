"""Kubeconfig files as `dockyard cluster register` sends them: one context, credentials embedded.

The server takes a kubeconfig's content, never a path, and only self-contained ones. This reads a
file on the CLI's machine and does what ``kubectl config view --minify --flatten`` does: keeps one
context (its cluster and user) and embeds the files it names (certificate-authority,
client-certificate, client-key, tokenFile), relative paths being relative to the kubeconfig's folder.
Errors name the file and the problem, never its content.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import yaml

from dockyard.cli.errors import fail

_EMBED = {
    "certificate-authority": "certificate-authority-data",
    "client-certificate": "client-certificate-data",
    "client-key": "client-key-data",
}


def read_kubeconfig(path: Path, *, context: str | None = None) -> str:
    """The kubeconfig at ``path`` reduced to ``context`` (default: its current one), files embedded."""
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, UnicodeDecodeError) as e:
        fail(f"cannot read kubeconfig {path}: {getattr(e, 'strerror', None) or type(e).__name__}")
    except yaml.YAMLError:
        fail(f"kubeconfig {path} is not valid YAML")
    if not isinstance(data, dict):
        fail(f"kubeconfig {path} is not a kubeconfig (a YAML mapping)")
    name = context or data.get("current-context")
    if not isinstance(name, str) or not name:
        fail(f"kubeconfig {path} has no current-context: choose one with --context")
    found = _named(data, "contexts", "context", name)
    if found is None:
        fail(f"kubeconfig {path} has no context {name!r}")
    minimal: dict[str, Any] = {"apiVersion": "v1", "kind": "Config", "current-context": name, "contexts": [found]}
    for section, key in (("clusters", "cluster"), ("users", "user")):
        wanted = (found.get("context") or {}).get(key)
        entry = _named(data, section, key, wanted) if isinstance(wanted, str) else None
        if entry is not None:
            try:
                entry = {"name": entry["name"], key: _embedded(path, dict(entry.get(key) or {}))}
            except OSError as e:
                fail(f"kubeconfig {path} names a file that cannot be read: {e.strerror or type(e).__name__}")
        minimal[section] = [entry] if entry is not None else []
    return yaml.safe_dump(minimal, sort_keys=False)


def _named(data: dict[str, Any], section: str, key: str, name: str) -> dict[str, Any] | None:
    for item in data.get(section) or []:
        if isinstance(item, dict) and item.get("name") == name:
            return item
    return None


def _embedded(kubeconfig: Path, entry: dict[str, Any]) -> dict[str, Any]:
    for field, data_field in _EMBED.items():
        if isinstance(entry.get(field), str):
            entry[data_field] = base64.b64encode(_file(kubeconfig, entry.pop(field)).read_bytes()).decode()
    for field in ("tokenFile", "token-file"):
        if isinstance(entry.get(field), str):
            entry["token"] = _file(kubeconfig, entry.pop(field)).read_text().strip()
    return entry


def _file(kubeconfig: Path, name: str) -> Path:
    path = Path(name).expanduser()
    path = path if path.is_absolute() else kubeconfig.parent / path
    if not path.is_file():
        fail(f"kubeconfig {kubeconfig} names a file that cannot be read: {path}")
    return path
