"""The CLI's connection to a Dockyard server: where it is, who we are, and its errors as one line.

The server URL is ``--server``, else ``$DOCKYARD_SERVER``, else ``server:`` in the CLI config file
(``$DOCKYARD_CLI_CONFIG`` or ``~/.config/dockyard/cli.yaml``), else http://127.0.0.1:8080. The token is
``--token``, else ``$DOCKYARD_TOKEN``, else what ``dockyard login`` saved in the config file (an API
token; or an access token with its refresh token, renewed when the server answers 401; or the identity
provider's ID token from ``dockyard login --sso``, which is not renewed: a 401 says to sign in again),
else, for a server on this machine, the first admin's token file that the server wrote (readable by its
owner only). Saved credentials are only ever sent to the server they were saved for.

Requests go through a :class:`~dockyard.cli.transport.Transport` (standard library ``http.client``,
one kept-alive connection per client); unit tests give a fake one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode, urlparse

from dockyard.cli.transport import HttpTransport, Response, TransportError

if TYPE_CHECKING:
    from dockyard.cli.transport import Transport

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


_SAVED = ("server", "user", "token", "access_token", "refresh_token", "id_token")
SSO_ENDED = "your single sign-on has expired or was refused; run `dockyard login --sso` again"


def write_cli_config(server: str, **credentials: str) -> Path:
    """Save ``server`` with ``credentials`` (``token``, or ``access_token`` and ``refresh_token``, or
    ``id_token``; none to log out) to the CLI config file, readable by its owner only (before anything is written)."""
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
    """JSON requests to one Dockyard server as one user.

    ``request`` answers the decoded JSON (``None`` for an empty body) or raises :class:`ApiError`: with
    the server's message (and the field it names) for a 4xx/5xx answer, with status 0 when the server
    cannot be reached. A 401 with a saved session is answered by renewing it once and sending the
    request again; a 401 with a saved single sign-on token is :data:`SSO_ENDED`. ``transport``: where
    requests go (default: an :class:`HttpTransport` to the server)."""

    def __init__(
        self,
        server: str | None = None,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        transport: Transport | None = None,
    ) -> None:
        config = read_cli_config()
        self.server = (server or os.environ.get("DOCKYARD_SERVER") or config.get("server") or DEFAULT_SERVER).rstrip(
            "/"
        )
        # Saved credentials belong to the saved server only: never send them anywhere else.
        self._saved = config if config.get("server", "").rstrip("/") == self.server else {}
        self._refresh_token = ""
        self._sso = False  # the token is the identity provider's, saved by `dockyard login --sso`
        token = token or os.environ.get("DOCKYARD_TOKEN") or self._saved.get("token")
        if not token and self._saved.get("access_token"):
            token, self._refresh_token = self._saved["access_token"], self._saved.get("refresh_token", "")
        if not token and self._saved.get("id_token"):
            token, self._sso = self._saved["id_token"], True
        if not token and urlparse(self.server).hostname in ("127.0.0.1", "localhost", "::1"):
            token = _local_admin_token()
        self._headers = {"Accept": "application/json", "User-Agent": "dockyard-cli"}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self._transport: Transport = transport or HttpTransport(self.server, timeout=timeout)

    def _send(self, method: str, path: str, json_body: Any, params: dict[str, Any] | None) -> Response:
        headers = self._headers
        body = None
        if json_body is not None:
            headers = {**headers, "Content-Type": "application/json"}
            body = json.dumps(json_body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
        target = f"{path}?{query(params)}" if params else path
        try:
            return self._transport.send(method, target, headers, body)
        except TransportError as e:
            raise ApiError(0, f"cannot reach the Dockyard server at {self.server}: {e}") from e

    def _renew(self) -> bool:
        """Trade the saved refresh token for a new pair and save it; False if the server refuses."""
        response = self._send("POST", "/api/v1/login/refresh", {"refresh_token": self._refresh_token}, None)
        self._refresh_token = ""
        if response.status != 200:
            return False
        pair = json.loads(response.body)
        write_cli_config(
            self.server,
            user=self._saved.get("user", ""),
            access_token=pair["access_token"],
            refresh_token=pair["refresh_token"],
        )
        self._headers["Authorization"] = f"Bearer {pair['access_token']}"
        return True

    def request(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None) -> Any:
        response = self._send(method, path, json, params)
        if response.status == 401 and self._refresh_token and self._renew():
            response = self._send(method, path, json, params)
        if response.status == 401 and self._sso:
            raise ApiError(401, SSO_ENDED)
        if response.status >= 400:
            raise _error(response, path)
        try:
            return _json(response.body) if response.body else None
        except ValueError as e:
            raise ApiError(response.status, f"{self.server} did not answer with JSON: is it a Dockyard server?") from e

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params={k: v for k, v in params.items() if v is not None})

    def post(self, path: str, body: Any) -> Any:
        return self.request("POST", path, json=body)

    def put(self, path: str, body: Any) -> Any:
        return self.request("PUT", path, json=body)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)

    def close(self) -> None:
        self._transport.close()


def query(params: dict[str, Any]) -> str:
    """``params`` as a query string, the way httpx wrote it: a list is its key repeated, ``True`` and
    ``False`` are ``true`` and ``false``, ``None`` is empty, anything else ``str()``."""
    items = [
        (key, _text(item))
        for key, value in params.items()
        for item in (value if isinstance(value, list | tuple) else [value])
    ]
    return urlencode(items)


def _text(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return "" if value is None else str(value)


def _json(body: bytes) -> Any:
    # UnicodeDecodeError and JSONDecodeError are both ValueErrors: "did not answer with JSON".
    return json.loads(body.decode())


def _error(response: Response, path: str) -> ApiError:
    """The server's ``{code, message, details: {field}}`` as an :class:`ApiError`; anything else as
    the start of its body (or the reason phrase)."""
    try:
        body = _json(response.body)
        if not isinstance(body, dict):
            raise ValueError("not an error body")
        message = str(body.get("message") or body)
        details = body.get("details")
        field = str((details.get("field") if isinstance(details, dict) else "") or "")
    except ValueError:
        message, field = response.body.decode(errors="replace")[:200] or response.reason, ""
    if response.status == 401 and not path.startswith("/api/v1/log"):
        message += "; log in with `dockyard login` or set DOCKYARD_TOKEN"
    return ApiError(response.status, message, field)
