"""`dockyard release status`: the steps, instances per version and the new version's share of requests."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from typer.testing import CliRunner

from dockyard.cli.main import app

if TYPE_CHECKING:
    from tests.unit.cli.conftest import FakeApi

GROUP = "/api/v1/systems/shop/apps/web/groups/prod"


def _release(share: int | None, status: str = "paused") -> dict[str, Any]:
    return {
        "id": "r1",
        "status": status,
        "stable_version": 1,
        "new_version": 2,
        "steps": ["gray 1", "pause", "weight 50%", "pause", "100%"],
        "step": 3,
        "new_instances": 1,
        "stable_instances": 2,
        "edge_share": share,
        "ledger": [{"at": "2026-12-02T10:00:00.000+00:00", "event": "weight", "step": "weight 50%", "weight": 50}],
        "error": "",
    }


@pytest.mark.parametrize(
    ("share", "line"),
    [
        (None, "requests to version 2 (load balancer): by instance counts"),
        (50, "requests to version 2 (load balancer): 50%"),
        (0, "requests to version 2 (load balancer): 0%"),
    ],
)
def test_status_shows_the_share(api: FakeApi, share: int | None, line: str) -> None:
    api.answers[("GET", f"{GROUP}/releases/r1")] = _release(share)
    api.answers[("GET", f"{GROUP}/instances")] = {"items": [{"version": "2", "ready": True}]}
    result = CliRunner().invoke(app, ["release", "status", "shop/web/prod", "r1"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert line in result.output
    assert "weight 50%" in result.output
