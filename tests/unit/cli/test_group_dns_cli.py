"""`dockyard group dns`: the global name and what it answers now."""

from __future__ import annotations

from typing import TYPE_CHECKING

from typer.testing import CliRunner

from dockyard.cli.main import app

if TYPE_CHECKING:
    from tests.unit.cli.conftest import FakeApi

DNS = "/api/v1/systems/shop/apps/web/groups/prod/dns"
NAME = "prod.web.shop.dockyard.internal"


def test_shows_the_name_then_the_answers(api: FakeApi) -> None:
    api.answers[("GET", DNS)] = {
        "name": NAME,
        "answers": [
            {"cluster": "local", "idc": "a", "ip": "10.128.0.5"},
            {"cluster": "b", "idc": "", "ip": "10.1.0.2"},
        ],
    }
    result = CliRunner().invoke(app, ["group", "dns", "shop/web/prod"])
    assert result.exit_code == 0, result.output
    out = result.stdout.splitlines()
    assert out[0] == NAME
    assert "10.128.0.5" in result.stdout
    assert any("10.1.0.2" in line and line.rstrip().endswith("-") for line in out)


def test_says_when_the_name_does_not_resolve(api: FakeApi) -> None:
    api.answers[("GET", DNS)] = {"name": NAME, "answers": []}
    result = CliRunner().invoke(app, ["group", "dns", "shop/web/prod"])
    assert result.stdout == f"{NAME}\nno ready instance: the name does not resolve\n"


def test_json_is_the_answer_as_is(api: FakeApi) -> None:
    api.answers[("GET", DNS)] = {"name": NAME, "answers": []}
    result = CliRunner().invoke(app, ["group", "dns", "shop/web/prod", "-o", "json"])
    assert '"name": "prod.web.shop.dockyard.internal"' in result.stdout
