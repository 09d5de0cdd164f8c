"""The CLI's light path resolution gives the server settings' answers (environment, config file, default)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockyard.local_paths import admin_token_file
from dockyard.settings import Settings


@pytest.mark.parametrize(
    ("env_file", "config_text", "expected"),
    [
        (None, None, "state/admin-token"),
        ("/given/token", None, "/given/token"),
        (None, "admin_token_file: /from/config\n", "/from/config"),
        ("/given/token", "admin_token_file: /from/config\n", "/given/token"),
        (None, "port: 9000\n", "state/admin-token"),
    ],
)
def test_admin_token_file_matches_the_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, env_file: str | None, config_text: str | None, expected: str
) -> None:
    monkeypatch.setenv("DOCKYARD_STATE_DIR", str(tmp_path / "state"))
    config = tmp_path / "config.yaml"
    monkeypatch.setenv("DOCKYARD_CONFIG", str(config))
    if config_text is not None:
        config.write_text(config_text)
    if env_file is None:
        monkeypatch.delenv("DOCKYARD_ADMIN_TOKEN_FILE", raising=False)
    else:
        monkeypatch.setenv("DOCKYARD_ADMIN_TOKEN_FILE", env_file)
    want = Path(expected) if expected.startswith("/") else tmp_path / expected
    assert admin_token_file() == want
    assert Settings().admin_token_file == want


def test_a_malformed_config_file_says_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DOCKYARD_STATE_DIR", str(tmp_path))
    monkeypatch.delenv("DOCKYARD_ADMIN_TOKEN_FILE", raising=False)
    config = tmp_path / "config.yaml"
    config.write_text("admin_token_file: [unclosed\n")
    monkeypatch.setenv("DOCKYARD_CONFIG", str(config))
    assert admin_token_file() == tmp_path / "admin-token"
