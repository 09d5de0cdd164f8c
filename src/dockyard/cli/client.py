"""The CLI's connection to a Dockyard server: where it is, who we are, and its errors as one line.

The server URL is ``--server``, else ``$DOCKYARD_SERVER``, else ``server:`` in the CLI config file
(``$DOCKYARD_CLI_CONFIG`` or ``~/.config/dockyard/cli.yaml``), else http://127.0.0.1:8080. The token is
``--token``, else ``$DOCKYARD_TOKEN``, else ``token:`` in the config file, else, for a server on this
machine, the first admin's token file that the server wrote (readable by its owner only).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

import httpx
import yaml

from dockyard.settings import Settings

DEFAULT_SERVER = "http://127.0.0.1:8080"


class ApiError(Exception):
    """A request the server refused or could not answer; ``str()`` is the line to print."""

    def __init__(self, status: int, message: str, field: str = "") -> None:
        super().__init__(f"{message} (field {field})" if field and field not in message else message)
        self.status = status
        self.field = field


def segment(value: str) -> str:
    """``value`` as one URL path segment: a name can never walk to another resource."""
    return quote(value, safe="")


def cli_config_file() -> Path:
    return Path(os.environ.get("DOCKYARD_CLI_CONFIG", Path.home() / ".config" / "dockyard" / "cli.yaml"))


def read_cli_config() -> dict[str, str]:
    path = cli_config_file()
    try:
        data = yaml.safe_load(path.read_text()) if path.exists() else {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise ApiError(0, f"cannot read {path}: {type(e).__name__}") from e
    if not isinstance(data, dict):
        raise ApiError(0, f"{path} must be a mapping with server and token")
    return {k: str(v) for k, v in data.items() if k in ("server", "token")}


def write_cli_config(server: str, token: str) -> Path:
    """Save ``server`` and ``token`` to the CLI config file, readable by its owner only."""
    path = cli_config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        yaml.safe_dump({"server": server, "token": token}, f)
    path.chmod(0o600)
    return path


def _local_admin_token() -> str:
    try:
        return Settings().admin_token_file.read_text().strip()
    except (OSError, ValueError):
        return ""


class Client:
    def __init__(self, server: str | None = None, token: str | None = None, *, timeout: float = 30.0) -> None:
        config = read_cli_config()
        self.server = (server or os.environ.get("DOCKYARD_SERVER") or config.get("server") or DEFAULT_SERVER).rstrip(
            "/"
        )
        # The saved token belongs to the saved server only: never send it anywhere else.
        saved = config.get("token") if config.get("server", "").rstrip("/") == self.server else None
        token = token or os.environ.get("DOCKYARD_TOKEN") or saved
        if not token and urlparse(self.server).hostname in ("127.0.0.1", "localhost", "::1"):
            token = _local_admin_token()
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=self.server, headers=headers, timeout=timeout)

    def request(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None) -> Any:
        try:
            response = self._http.request(method, path, json=json, params=params)
        except httpx.HTTPError as e:
            raise ApiError(0, f"cannot reach the Dockyard server at {self.server}: {type(e).__name__}") from e
        if response.status_code >= 400:
            raise _error(response)
        try:
            return response.json() if response.content else None
        except ValueError as e:
            raise ApiError(
                response.status_code, f"{self.server} did not answer with JSON: is it a Dockyard server?"
            ) from e

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params={k: v for k, v in params.items() if v is not None})

    def post(self, path: str, body: Any) -> Any:
        return self.request("POST", path, json=body)

    def put(self, path: str, body: Any) -> Any:
        return self.request("PUT", path, json=body)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)

    def close(self) -> None:
        self._http.close()


def _error(response: httpx.Response) -> ApiError:
    try:
        body = response.json()
        if not isinstance(body, dict):
            raise ValueError("not an error body")
        message = str(body.get("message") or body)
        field = str((body.get("details") or {}).get("field") or "")
    except ValueError:
        message, field = response.text[:200] or response.reason_phrase, ""
    if response.status_code == 401:
        message += "; log in with `dockyard login --token ...` or set DOCKYARD_TOKEN"
    return ApiError(response.status_code, message, field)
