"""`dockyard edge`: what it sends and what it prints."""

from __future__ import annotations

from typing import TYPE_CHECKING

from typer.testing import CliRunner

from dockyard.cli.main import app

if TYPE_CHECKING:
    from tests.unit.cli.conftest import FakeApi

EDGE = "/api/v1/systems/shop/apps/web/groups/prod/edge"
SHOWN = {
    "system": "shop",
    "app": "web",
    "group": "prod",
    "host": "prod.web.shop.dockyard.internal",
    "enabled": True,
    "port": "",
    "balancer": True,
    "upstreams": [
        {"address": "10.250.0.4:8080", "version": 1, "weight": 1},
        {"address": "10.250.0.5:8080", "version": 2, "weight": 2},
    ],
    "health_path": "/healthz",
}


def test_enable_sends_the_port_and_shows_the_route(api: FakeApi) -> None:
    api.answers[("PUT", EDGE)] = SHOWN
    result = CliRunner().invoke(app, ["edge", "enable", "shop/web/prod", "--port", "http"])
    assert result.exit_code == 0, result.output
    assert api.sent == [("PUT", EDGE, {"port": "http"})]
    assert "prod.web.shop.dockyard.internal" in result.stdout
    assert "10.250.0.5:8080 v2 w2" in result.stdout


def test_show_and_disable(api: FakeApi) -> None:
    api.answers[("GET", EDGE)] = {**SHOWN, "enabled": False, "port": None, "upstreams": [], "health_path": None}
    api.answers[("DELETE", EDGE)] = None
    shown = CliRunner().invoke(app, ["edge", "show", "shop/web/prod"])
    assert shown.exit_code == 0, shown.output
    assert "no" in shown.stdout.split()
    gone = CliRunner().invoke(app, ["edge", "disable", "shop/web/prod"])
    assert (gone.exit_code, gone.stdout) == (0, "shop/web/prod: no edge entry\n")
    assert CliRunner().invoke(app, ["edge", "show", "shop/web"]).exit_code != 0
