"""The CLI's client: which token goes to which server, and names stay one path segment."""

from __future__ import annotations

import json
import ssl
from pathlib import Path

import httpx
import pytest
import yaml

from dockyard.cli.client import Client, _tls_context, segment, write_cli_config


def test_the_saved_token_goes_to_the_saved_server_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKYARD_CLI_CONFIG", str(tmp_path / "cli.yaml"))
    monkeypatch.delenv("DOCKYARD_TOKEN", raising=False)
    monkeypatch.delenv("DOCKYARD_SERVER", raising=False)
    write_cli_config("https://prod.example:8443", token="dy_prod_secret_token_value_1234567")
    assert (tmp_path / "cli.yaml").stat().st_mode & 0o777 == 0o600
    saved = Client()
    assert saved._http.headers["Authorization"] == "Bearer dy_prod_secret_token_value_1234567"
    other = Client("http://staging.example:8080")
    assert "Authorization" not in other._http.headers


def test_a_name_is_one_path_segment() -> None:
    assert segment("x/../../systems/shop") == "x%2F..%2F..%2Fsystems%2Fshop"
    assert segment("web") == "web"


def test_a_session_is_renewed_once_on_401_and_saved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An expired access token is traded for a new pair with the refresh token; the new pair is saved."""
    monkeypatch.setenv("DOCKYARD_CLI_CONFIG", str(tmp_path / "cli.yaml"))
    monkeypatch.delenv("DOCKYARD_TOKEN", raising=False)
    monkeypatch.delenv("DOCKYARD_SERVER", raising=False)
    write_cli_config("https://prod.example", user="olga", access_token="old-access", refresh_token="dyr_old")
    seen: list[tuple[str, str]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.path, request.headers.get("Authorization", "")))
        if request.url.path == "/api/v1/login/refresh":
            assert json.loads(request.content) == {"refresh_token": "dyr_old"}
            return httpx.Response(200, json={"access_token": "new-access", "refresh_token": "dyr_new"})
        if request.headers["Authorization"] == "Bearer old-access":
            return httpx.Response(401, json={"code": "unauthenticated", "message": "expired"})
        return httpx.Response(200, json={"name": "olga"})

    client = Client()
    client._http = httpx.Client(
        base_url=client.server, headers=client._http.headers, transport=httpx.MockTransport(answer)
    )
    assert client.get("/api/v1/users/me") == {"name": "olga"}
    assert seen == [
        ("/api/v1/users/me", "Bearer old-access"),
        ("/api/v1/login/refresh", "Bearer old-access"),
        ("/api/v1/users/me", "Bearer new-access"),
    ]
    saved = yaml.safe_load((tmp_path / "cli.yaml").read_text())
    assert saved == {
        "server": "https://prod.example",
        "user": "olga",
        "access_token": "new-access",
        "refresh_token": "dyr_new",
    }
    assert (tmp_path / "cli.yaml").stat().st_mode & 0o777 == 0o600


def test_an_https_server_is_verified_and_a_plain_http_one_gets_a_context_that_trusts_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Loading the CA bundle is a third of a client command's start-up; a plain http server never needs
    it, and any TLS through that context fails closed (no CA trusted, hostnames and certificates checked)."""
    monkeypatch.setenv("DOCKYARD_CLI_CONFIG", str(tmp_path / "cli.yaml"))
    assert _tls_context("https://dockyard.example") is True
    context = _tls_context("http://127.0.0.1:8080")
    assert isinstance(context, ssl.SSLContext)
    assert (context.verify_mode, context.check_hostname) == (ssl.CERT_REQUIRED, True)
    assert context.cert_store_stats()["x509_ca"] == 0
