"""`dockyard deploy --secret-env NAME` takes the value from the environment, never from the command line."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from dockyard.cli import deploys
from dockyard.cli.main import app


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    bodies: list[dict[str, Any]] = []
    monkeypatch.setattr(deploys, "act", lambda target, action, body, *rest: bodies.append(body))
    return bodies


def test_secret_env_values_come_from_the_environment(sent: list[dict[str, Any]]) -> None:
    result = CliRunner().invoke(
        app, ["deploy", "shop/web/prod", "--secret-env", "DB_PASSWORD"], env={"DB_PASSWORD": "pw-from-env"}
    )
    assert result.exit_code == 0, result.output
    assert sent[0]["changes"] == {"secret_env": {"DB_PASSWORD": "pw-from-env"}}


def test_an_unset_secret_env_var_is_an_error(sent: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    result = CliRunner().invoke(app, ["deploy", "shop/web/prod", "--secret-env", "NOT_SET_ANYWHERE"])
    assert result.exit_code == 1
    assert "set $NOT_SET_ANYWHERE in the environment" in result.output
    assert sent == []
