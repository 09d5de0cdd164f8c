"""The CLI's client: which token goes to which server, and names stay one path segment."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockyard.cli.client import Client, segment, write_cli_config


def test_the_saved_token_goes_to_the_saved_server_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKYARD_CLI_CONFIG", str(tmp_path / "cli.yaml"))
    monkeypatch.delenv("DOCKYARD_TOKEN", raising=False)
    monkeypatch.delenv("DOCKYARD_SERVER", raising=False)
    write_cli_config("https://prod.example:8443", "dy_prod_secret_token_value_1234567")
    assert (tmp_path / "cli.yaml").stat().st_mode & 0o777 == 0o600
    saved = Client()
    assert saved._http.headers["Authorization"] == "Bearer dy_prod_secret_token_value_1234567"
    other = Client("http://staging.example:8080")
    assert "Authorization" not in other._http.headers


def test_a_name_is_one_path_segment() -> None:
    assert segment("x/../../systems/shop") == "x%2F..%2F..%2Fsystems%2Fshop"
    assert segment("web") == "web"
