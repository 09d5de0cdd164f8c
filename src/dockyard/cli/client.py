"""The CLI's connection to a Dockyard server: where it is, who we are, and its errors as one line.

The server URL is ``--server``, else ``$DOCKYARD_SERVER``, else ``server:`` in the CLI config file
(``$DOCKYARD_CLI_CONFIG`` or ``~/.config/dockyard/cli.yaml``), else http://127.0.0.1:8080. The token is
``--token``, else ``$DOCKYARD_TOKEN``, else what ``dockyard login`` saved in the config file (an API
token, or an access token with its refresh token, renewed when the server answers 401), else, for a
server on this machine, the first admin's token file that the server wrote (readable by its owner only).
Saved credentials are only ever sent to the server they were saved for.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlparse

if TYPE_CHECKING:
    import ssl

    import httpx

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
    if not path.exists():
        return {}
    import yaml  # only when there is a config file to read

    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise ApiError(0, f"cannot read {path}: {type(e).__name__}") from e
    if not isinstance(data, dict):
        raise ApiError(0, f"{path} must be a mapping with server and token")
    return {k: str(v) for k, v in data.items() if k in _SAVED}


_SAVED = ("server", "user", "token", "access_token", "refresh_token")


def write_cli_config(server: str, **credentials: str) -> Path:
    """Save ``server`` with ``credentials`` (``token``, or ``access_token`` and ``refresh_token``;
    none to log out) to the CLI config file, readable by its owner only (before anything is written)."""
    import yaml

    path = cli_config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as f:
        yaml.safe_dump({"server": server, **{k: v for k, v in credentials.items() if k in _SAVED and v}}, f)
    return path


def _local_admin_token() -> str:
    # Not through the server's settings: pydantic-settings alone would double the command's start-up.
    from dockyard.local_paths import admin_token_file

    try:
        return admin_token_file().read_text().strip()
    except (OSError, ValueError):
        return ""


class Client:
    def __init__(self, server: str | None = None, token: str | None = None, *, timeout: float = 30.0) -> None:
        config = read_cli_config()
        self.server = (server or os.environ.get("DOCKYARD_SERVER") or config.get("server") or DEFAULT_SERVER).rstrip(
            "/"
        )
        # Saved credentials belong to the saved server only: never send them anywhere else.
        self._saved = config if config.get("server", "").rstrip("/") == self.server else {}
        self._refresh_token = ""
        token = token or os.environ.get("DOCKYARD_TOKEN") or self._saved.get("token")
        if not token and self._saved.get("access_token"):
            token, self._refresh_token = self._saved["access_token"], self._saved.get("refresh_token", "")
        if not token and urlparse(self.server).hostname in ("127.0.0.1", "localhost", "::1"):
            token = _local_admin_token()
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        _httpx = _import_httpx()
        self._http: httpx.Client = _httpx.Client(
            base_url=self.server, headers=headers, timeout=timeout, verify=_tls_context(self.server)
        )

    def _send(self, method: str, path: str, json: Any, params: dict[str, Any] | None) -> httpx.Response:
        try:
            return self._http.request(method, path, json=json, params=params)
        except _import_httpx().HTTPError as e:
            raise ApiError(0, f"cannot reach the Dockyard server at {self.server}: {type(e).__name__}") from e

    def _renew(self) -> bool:
        """Trade the saved refresh token for a new pair and save it; False if the server refuses."""
        response = self._send("POST", "/api/v1/login/refresh", {"refresh_token": self._refresh_token}, None)
        self._refresh_token = ""
        if response.status_code != 200:
            return False
        pair = response.json()
        write_cli_config(
            self.server,
            user=self._saved.get("user", ""),
            access_token=pair["access_token"],
            refresh_token=pair["refresh_token"],
        )
        self._http.headers["Authorization"] = f"Bearer {pair['access_token']}"
        return True

    def request(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None) -> Any:
        response = self._send(method, path, json, params)
        if response.status_code == 401 and self._refresh_token and self._renew():
            response = self._send(method, path, json, params)
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


def _import_httpx() -> ModuleType:
    """httpx, imported when a client is made rather than with this module (so `dockyard --help` and
    argument errors never pay for it), and without its optional command line: ``httpx/__init__``
    imports ``httpx._main`` (rich, click, pygments: ~45 ms, a sixth of a client command's start-up)
    inside ``try/except ImportError``; a ``None`` in ``sys.modules`` makes that import fail for this
    one import only, and is removed right after so a later ``import httpx._main`` works as usual."""
    if "httpx" in sys.modules:
        return sys.modules["httpx"]
    blocked = "httpx._main" not in sys.modules
    if blocked:
        sys.modules["httpx._main"] = None  # type: ignore[assignment]
    try:
        import httpx
    finally:
        if blocked:
            del sys.modules["httpx._main"]
    return httpx


def _tls_context(server: str) -> ssl.SSLContext | bool:
    """Certificates checked against the system's CAs for an https server (httpx's default); for a
    plain http server, a context that trusts no CA at all, so it costs nothing to make (loading the
    CA bundle is a third of a client command's start-up) and any TLS through it fails closed."""
    if urlparse(server).scheme != "http":
        return True
    import ssl

    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


def _error(response: httpx.Response) -> ApiError:
    try:
        body = response.json()
        if not isinstance(body, dict):
            raise ValueError("not an error body")
        message = str(body.get("message") or body)
        field = str((body.get("details") or {}).get("field") or "")
    except ValueError:
        message, field = response.text[:200] or response.reason_phrase, ""
    if response.status_code == 401 and not response.request.url.path.startswith("/api/v1/log"):
        message += "; log in with `dockyard login` or set DOCKYARD_TOKEN"
    return ApiError(response.status_code, message, field)
