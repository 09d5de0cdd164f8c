"""`dockyard stats`: which path a target asks, the table, csv with every field, the errors."""

from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING, Any

import pytest
from typer.testing import CliRunner

from dockyard.cli.main import app

if TYPE_CHECKING:
    from tests.unit.cli.conftest import FakeApi

ROW: dict[str, Any] = {
    "day": None,
    "system": "shop",
    "app": "web",
    "group": "",
    "cluster": "",
    "idc": "",
    "instance": "",
    "cpu_requested": 7_200_000,
    "cpu_used": 1_800_000,
    "cpu_billed": 7_200_000,
    "memory_requested": 2**30 * 7200,
    "memory_used": 2**29 * 7200,
    "memory_billed": 2**30 * 7200,
    "seconds": 7200,
    "unmeasured": 0,
    "cpu_requested_core_hours": "2.000000",
    "cpu_used_core_hours": "0.500000",
    "cpu_billed_core_hours": "2.000000",
    "memory_requested_gib_hours": "2.000000",
    "memory_used_gib_hours": "1.000000",
    "memory_billed_gib_hours": "2.000000",
    "cpu_efficiency": 0.25,
    "memory_efficiency": 0.5,
    "cost": "0.110000",
    "low_efficiency": False,
}
REPORT = {
    "first": "2026-11-03",
    "last": "2026-12-02",
    "level": "app",
    "sampled_seconds": 3600,
    "measured_seconds": 3600,
    "rows": [ROW],
}


@pytest.mark.parametrize(
    ("target", "path"),
    [
        ([], "/api/v1/statistics"),
        (["shop"], "/api/v1/systems/shop/statistics"),
        (["shop/web"], "/api/v1/systems/shop/apps/web/statistics"),
        (["shop/web/prod"], "/api/v1/systems/shop/apps/web/groups/prod/statistics"),
    ],
)
def test_a_target_is_its_scope(api: FakeApi, target: list[str], path: str) -> None:
    api.answers[("GET", path)] = REPORT
    result = CliRunner().invoke(app, ["stats", "show", *target])
    assert result.exit_code == 0, result.output
    assert "shop/web" in result.stdout
    assert "25.0%" in result.stdout
    assert "0.110000" in result.stdout


def test_csv_holds_every_field_and_json_the_answer(api: FakeApi) -> None:
    api.answers[("GET", "/api/v1/systems/shop/statistics")] = REPORT
    result = CliRunner().invoke(app, ["stats", "show", "shop", "-o", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows[0]["memory_requested"] == str(2**30 * 7200)
    assert rows[0]["day"] == ""
    assert list(rows[0]) == list(ROW)
    result = CliRunner().invoke(app, ["stats", "show", "shop", "-o", "json"])
    assert json.loads(result.stdout) == REPORT


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["stats", "show", "a/b/c/d"], "error: 'a/b/c/d': give SYSTEM, SYSTEM/APP or SYSTEM/APP/GROUP\n"),
        (["stats", "show", "--from", "yesterday"], "error: --from 'yesterday': give a day as YYYY-MM-DD\n"),
    ],
)
def test_bad_arguments_are_one_error_line(api: FakeApi, args: list[str], error: str) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert result.stderr == error
    assert api.sent == []


def test_without_nodes_says_what_does_not_fit(api: FakeApi) -> None:
    api.answers[("GET", "/api/v1/clusters/local/statistics/without-nodes")] = {
        "cluster": "local",
        "nodes": ["n1"],
        "groups": [
            {
                "system": "shop",
                "app": "web",
                "group": "prod",
                "instances": 3,
                "fit": 1,
                "fits": False,
                "reason": "0/2 nodes are available: 2 Insufficient cpu.",
            }
        ],
    }
    result = CliRunner().invoke(app, ["stats", "without-nodes", "local", "--count", "1"])
    assert result.exit_code == 0, result.output
    assert "losing n1:" in result.stderr
    assert "shop/web/prod" in result.stdout
    assert "NO" in result.stdout
