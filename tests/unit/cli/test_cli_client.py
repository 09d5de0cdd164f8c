"""The CLI's client: which token goes to which server, names stay one path segment, JSON in and out
over one kept-alive connection, the server's errors as one line, a session renewed once on 401."""

from __future__ import annotations

import base64
import http.client
import http.server
import json
import socket
import ssl
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml

from dockyard.cli import transport
from dockyard.cli.client import ApiError, Client, query, segment, write_cli_config
from dockyard.cli.transport import HttpTransport, Response, TransportError


class FakeTransport:
    """Answers each request with ``answer(method, target, headers, body)``; records what was sent."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.sent: list[tuple[str, str, dict[str, str], bytes | None]] = []
        self.closed = False

    def send(self, method: str, target: str, headers: Mapping[str, str], body: bytes | None) -> Response:
        self.sent.append((method, target, dict(headers), body))
        found: Response = self.answer(method, target, dict(headers), body)
        return found

    def close(self) -> None:
        self.closed = True


def _json(status: int, body: Any) -> Response:
    return Response(status, "Whatever", json.dumps(body).encode())


@pytest.fixture
def no_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DOCKYARD_CLI_CONFIG", str(tmp_path / "cli.yaml"))
    monkeypatch.delenv("DOCKYARD_TOKEN", raising=False)
    monkeypatch.delenv("DOCKYARD_SERVER", raising=False)
    monkeypatch.setenv("DOCKYARD_ADMIN_TOKEN_FILE", str(tmp_path / "no-admin-token"))
    return tmp_path / "cli.yaml"


def _authorization(server: str | None) -> str | None:
    fake = FakeTransport(lambda *_: _json(200, {}))
    Client(server, transport=fake).get("/api/v1/users/me")
    return fake.sent[0][2].get("Authorization")


def test_the_saved_token_goes_to_the_saved_server_only(no_config: Path) -> None:
    write_cli_config("https://prod.example:8443", token="dy_prod_secret_token_value_1234567")
    assert no_config.stat().st_mode & 0o777 == 0o600
    assert _authorization(None) == "Bearer dy_prod_secret_token_value_1234567"
    assert _authorization("http://staging.example:8080") is None


def test_a_name_is_one_path_segment() -> None:
    assert segment("x/../../systems/shop") == "x%2F..%2F..%2Fsystems%2Fshop"
    assert segment("web") == "web"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"after": 3}, "after=3"),
        ({"actor": "olga", "limit": 50}, "actor=olga&limit=50"),
        ({"status": ["running", "failed"]}, "status=running&status=failed"),  # a list: the key repeated
        ({"dry_run": True, "all": False}, "dry_run=true&all=false"),
        ({"q": "a b&c=d/é"}, "q=a+b%26c%3Dd%2F%C3%A9"),
        ({"empty": None}, "empty="),
    ],
)
def test_query_strings_are_written_as_httpx_wrote_them(params: dict[str, Any], expected: str) -> None:
    assert query(params) == expected


def test_a_request_sends_json_and_reads_json(no_config: Path) -> None:
    fake = FakeTransport(lambda *_: _json(201, {"name": "shop"}))
    client = Client("http://dockyard.example", "dy_token", transport=fake)
    assert client.post("/api/v1/systems", {"name": "shop", "owner": "ölga"}) == {"name": "shop"}
    assert client.get("/api/v1/audit", actor="olga", before=None) == {"name": "shop"}
    (method, target, headers, body), (_, get_target, get_headers, get_body) = fake.sent
    assert (method, target) == ("POST", "/api/v1/systems")
    assert headers["Content-Type"] == "application/json"
    assert headers["Authorization"] == "Bearer dy_token"
    assert body is not None
    assert json.loads(body) == {"name": "shop", "owner": "ölga"}
    assert (get_target, get_body) == ("/api/v1/audit?actor=olga", None)  # None: not sent at all
    assert "Content-Type" not in get_headers
    client.close()
    assert fake.closed


def test_an_empty_answer_is_none_and_a_non_json_one_says_so(no_config: Path) -> None:
    client = Client("http://dockyard.example", transport=FakeTransport(lambda *_: Response(204, "No Content", b"")))
    assert client.delete("/api/v1/systems/shop") is None
    client = Client("http://dockyard.example", transport=FakeTransport(lambda *_: Response(200, "OK", b"<html>")))
    with pytest.raises(ApiError, match="did not answer with JSON: is it a Dockyard server"):
        client.get("/api/v1/systems")


@pytest.mark.parametrize(
    ("answer", "path", "status", "message", "field"),
    [
        (
            _json(422, {"code": "invalid", "message": "must be ≥ 0", "details": {"field": "instances"}}),
            "/api/v1/x",
            422,
            "must be ≥ 0 (field instances)",
            "instances",
        ),
        (_json(404, {"code": "not_found", "message": "no system shop"}), "/api/v1/x", 404, "no system shop", ""),
        (_json(409, {"code": "conflict", "message": "busy", "details": None}), "/api/v1/x", 409, "busy", ""),
        (Response(502, "Bad Gateway", b"upstream down"), "/api/v1/x", 502, "upstream down", ""),
        (Response(503, "Service Unavailable", b""), "/api/v1/x", 503, "Service Unavailable", ""),
        (
            _json(401, {"code": "unauthenticated", "message": "no token"}),
            "/api/v1/systems",
            401,
            "no token; log in with `dockyard login` or set DOCKYARD_TOKEN",
            "",
        ),
        (_json(401, {"code": "unauthenticated", "message": "bad password"}), "/api/v1/login", 401, "bad password", ""),
    ],
)
def test_the_servers_errors_become_one_line(
    no_config: Path, answer: Response, path: str, status: int, message: str, field: str
) -> None:
    client = Client("http://dockyard.example", transport=FakeTransport(lambda *_: answer))
    with pytest.raises(ApiError) as raised:
        client.get(path)
    assert (raised.value.status, str(raised.value), raised.value.field) == (status, message, field)


def test_a_session_is_renewed_once_on_401_and_saved(no_config: Path) -> None:
    """An expired access token is traded for a new pair with the refresh token; the new pair is saved."""
    write_cli_config("https://prod.example", user="olga", access_token="old-access", refresh_token="dyr_old")

    def answer(method: str, target: str, headers: dict[str, str], body: bytes | None) -> Response:
        if target == "/api/v1/login/refresh":
            assert body is not None
            assert json.loads(body) == {"refresh_token": "dyr_old"}
            return _json(200, {"access_token": "new-access", "refresh_token": "dyr_new"})
        if headers["Authorization"] == "Bearer old-access":
            return _json(401, {"code": "unauthenticated", "message": "expired"})
        return _json(200, {"name": "olga"})

    fake = FakeTransport(answer)
    client = Client(transport=fake)
    assert client.get("/api/v1/users/me") == {"name": "olga"}
    assert [(target, headers["Authorization"]) for _, target, headers, _ in fake.sent] == [
        ("/api/v1/users/me", "Bearer old-access"),
        ("/api/v1/login/refresh", "Bearer old-access"),
        ("/api/v1/users/me", "Bearer new-access"),
    ]
    saved = yaml.safe_load(no_config.read_text())
    assert saved == {
        "server": "https://prod.example",
        "user": "olga",
        "access_token": "new-access",
        "refresh_token": "dyr_new",
    }
    assert no_config.stat().st_mode & 0o777 == 0o600


def test_a_refused_renewal_is_not_retried(no_config: Path) -> None:
    write_cli_config("https://prod.example", user="olga", access_token="old-access", refresh_token="dyr_old")
    fake = FakeTransport(lambda *_: _json(401, {"code": "unauthenticated", "message": "expired"}))
    with pytest.raises(ApiError, match=r"^expired; log in with"):
        Client(transport=fake).get("/api/v1/users/me")
    assert [target for _, target, _, _ in fake.sent] == ["/api/v1/users/me", "/api/v1/login/refresh"]


def test_no_answer_is_one_line_naming_the_server(no_config: Path) -> None:
    def down(*_: Any) -> Response:
        raise TransportError("Connection refused")

    with pytest.raises(ApiError) as raised:
        Client("http://127.0.0.1:9", transport=FakeTransport(down)).get("/api/v1/systems")
    assert (raised.value.status, str(raised.value)) == (
        0,
        "cannot reach the Dockyard server at http://127.0.0.1:9: Connection refused",
    )


# The real transport, against a real local HTTP/1.1 server ----------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    seen: ClassVar[list[tuple[str, str, int, bytes]]] = []  # method, path, client port, body
    logins: ClassVar[list[str]] = []  # Proxy-Authorization headers

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        self.seen.append((self.command, self.path, self.client_address[1], body))
        if "Proxy-Authorization" in self.headers:
            self.logins.append(self.headers["Proxy-Authorization"])
        if self.path.endswith("/close"):
            self.close_connection = True  # closes after answering, without saying so
        out = json.dumps({"path": self.path, "got": body.decode()}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = do_POST = do_DELETE = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


@pytest.fixture
def local_server() -> Iterator[str]:
    _Handler.seen.clear()
    _Handler.logins.clear()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_requests_share_one_connection_and_survive_its_closing(no_config: Path, local_server: str) -> None:
    client = Client(local_server + "/prefix/")
    assert client.get("/api/v1/a", status=["x", "y"]) == {"path": "/prefix/api/v1/a?status=x&status=y", "got": ""}
    assert client.post("/api/v1/b", {"n": 1}) == {"path": "/prefix/api/v1/b", "got": '{"n":1}'}
    client.get("/api/v1/close")  # the server closes this connection while it is idle
    client.delete("/api/v1/c")
    client.close()
    ports = [port for _, _, port, _ in _Handler.seen]
    assert ports[0] == ports[1] == ports[2] != ports[3]
    assert [method for method, _, _, _ in _Handler.seen] == ["GET", "POST", "GET", "DELETE"]  # nothing sent twice


def test_a_closed_port_and_a_silent_server_are_one_line(no_config: Path) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with pytest.raises(ApiError, match=rf"^cannot reach the Dockyard server at http://127.0.0.1:{port}: \S"):
        Client(f"http://127.0.0.1:{port}").get("/api/v1/systems")
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        server = f"http://127.0.0.1:{silent.getsockname()[1]}"
        with pytest.raises(ApiError, match=f"^cannot reach the Dockyard server at {server}: timed out after 0.2 s$"):
            Client(server, timeout=0.2).get("/api/v1/systems")
    with pytest.raises(ApiError, match=r"^cannot reach the Dockyard server at ftp://x: not an http"):
        Client("ftp://x").get("/api/v1/systems")


def test_an_https_server_is_verified_against_the_systems_cas_and_a_plain_http_one_needs_no_tls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made: list[ssl.SSLContext] = []
    real = transport._verifying_context

    def spy() -> ssl.SSLContext:
        made.append(real())
        return made[-1]

    monkeypatch.setattr(transport, "_verifying_context", spy)
    HttpTransport("http://127.0.0.1:9", timeout=1)._connect(http.client)
    assert made == []
    connection = HttpTransport("https://dockyard.example", timeout=1)._connect(http.client)
    (context,) = made
    assert connection._context is context  # type: ignore[attr-defined]
    assert (context.verify_mode, context.check_hostname) == (ssl.CERT_REQUIRED, True)


def test_a_plain_request_goes_through_the_environments_proxy_with_its_login(
    no_config: Path, local_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = local_server.replace("http://", "http://olga:s%40cret@")  # the local server plays the proxy
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.setenv("NO_PROXY", "internal.example")
    client = Client("http://dockyard.example:8080")
    assert client.get("/api/v1/a", n=1) == {"path": "http://dockyard.example:8080/api/v1/a?n=1", "got": ""}
    assert _Handler.logins == ["Basic " + base64.b64encode(b"olga:s@cret").decode()]
    with pytest.raises(ApiError, match=r"^cannot reach the Dockyard server at http://internal\.example:9: "):
        Client("http://internal.example:9", timeout=1).get("/api/v1/a")  # not through the proxy
    assert len(_Handler.seen) == 1


def test_an_https_request_tunnels_through_the_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("https_proxy", "http://proxy.example:3128")
    connection = HttpTransport("https://dockyard.example", timeout=1)._connect(http.client)
    assert (connection.host, connection.port) == ("proxy.example", 3128)
    assert connection._tunnel_host == "dockyard.example"  # type: ignore[attr-defined]
    monkeypatch.setenv("https_proxy", "https://proxy.example:3128")
    with pytest.raises(TransportError, match="only http:// proxies"):
        HttpTransport("https://dockyard.example", timeout=1)._connect(http.client)
