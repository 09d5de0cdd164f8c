"""`dockyard instance restart|logs|events`: one request each, one clear line or the rows."""

from __future__ import annotations

from typer.testing import CliRunner

from dockyard.cli.main import app
from tests.unit.cli.conftest import FakeApi

PATH = "/api/v1/systems/shop/apps/web/groups/prod/instances/web-prod-a"


def test_restart_deletes_the_instance_in_one_request(api: FakeApi) -> None:
    api.answers[("POST", f"{PATH}/restart")] = {"message": "ok"}
    result = CliRunner().invoke(app, ["instance", "restart", "shop/web/prod", "web-prod-a"])
    assert result.exit_code == 0, result.output
    assert result.output == "instance web-prod-a of shop/web/prod: deleted; the group starts a new one\n"
    assert api.sent == [("POST", f"{PATH}/restart", {})]


def test_logs_print_the_lines(api: FakeApi) -> None:
    api.answers[("GET", f"{PATH}/logs")] = {"lines": ["t1 hello", "t2 world"]}
    result = CliRunner().invoke(app, ["instance", "logs", "shop/web/prod", "web-prod-a", "--tail", "2"])
    assert (result.exit_code, result.output) == (0, "t1 hello\nt2 world\n")


def test_events_are_a_table(api: FakeApi) -> None:
    api.answers[("GET", f"{PATH}/events")] = {
        "items": [
            {
                "last_at": "2026-12-02T10:00:00Z",
                "type": "Warning",
                "reason": "Unhealthy",
                "count": 3,
                "source": "kubelet n1",
                "message": "Readiness probe failed",
            }
        ]
    }
    result = CliRunner().invoke(app, ["instance", "events", "shop/web/prod", "web-prod-a"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Unhealthy" in result.output
    assert "Readiness probe failed" in result.output
