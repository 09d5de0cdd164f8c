"""`dockyard autoscale`: the policy it sends, what it prints, and one clear line on bad options."""

from __future__ import annotations

from typing import TYPE_CHECKING

from typer.testing import CliRunner

from dockyard.cli.main import app

if TYPE_CHECKING:
    from tests.unit.cli.conftest import FakeApi

PATH = "/api/v1/systems/shop/apps/web/groups/prod/autoscale"
OP = {"id": "op-1", "action": "deploy", "params": {"version": 4}, "status": "pending"}
SHOWN = {
    "version": 4,
    "policy": {"min": 2, "max": 20, "target": 1.0, "tolerance": 0.1, "signals": []},
    "instances": 2,
    "decision": {
        "current": 2,
        "desired": 12,
        "action": "up",
        "reason": "…",
        "signals": [
            {
                "key": "requests",
                "unit": "requests/s",
                "load": 600.0,
                "per_instance": 50.0,
                "utilisation": 6.0,
                "wanted": 12,
                "problem": "",
            }
        ],
    },
    "split": {"idc-a": 8, "idc-b": 4},
    "note": "",
    "last": [
        {
            "id": "op-0",
            "action": "autoscale",
            "status": "succeeded",
            "started_at": "2026-12-02T14:00:00Z",
            "finished_at": "2026-12-02T14:00:05Z",
            "params": {"version": 4, "instances": 2, "was": 12, "why": "requests 100 requests/s …"},
        }
    ],
}


def test_set_sends_the_policy(api: FakeApi) -> None:
    api.answers[("PUT", PATH)] = OP
    result = CliRunner().invoke(
        app,
        [
            "autoscale", "set", "shop/web/prod", "--min", "2", "--max", "20", "--requests", "50",
            "--memory", "512Mi", "--custom", "queue_depth=100", "--target", "0.8", "--down-window", "600",
            "--no-wait",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert api.sent == [
        (
            "PUT",
            PATH,
            {
                "policy": {
                    "min": 2,
                    "max": 20,
                    "signals": [
                        {"signal": "requests", "baseline": 50.0},
                        {"signal": "memory", "baseline": 512.0 * 2**20},
                        {"signal": "custom", "series": "queue_depth", "baseline": 100.0},
                    ],
                    "target": 0.8,
                    "scale_down": {"window_seconds": 600},
                }
            },
        )
    ]


def test_bad_options_say_so_in_one_line(api: FakeApi) -> None:
    for extra in (["--custom", "queue_depth"], ["--memory", "lots"], []):
        result = CliRunner().invoke(app, ["autoscale", "set", "shop/web/prod", "--min", "1", "--max", "2", *extra])
        assert result.exit_code != 0
        assert len(result.output.strip().splitlines()) == 1, result.output
    assert api.sent == []


def test_show_prints_signals_against_target_and_the_last_decisions(api: FakeApi) -> None:
    api.answers[("GET", PATH)] = SHOWN
    result = CliRunner().invoke(app, ["autoscale", "show", "shop/web/prod"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "version 4: 2 instances, min 2, max 20" in out
    assert "600 requests/s" in out
    assert "600%" in out
    assert "now: up → 12 (idc-a 8, idc-b 4)" in out
    assert "12 → 2 succeeded: requests 100 requests/s" in out


def test_off_and_no_policy(api: FakeApi) -> None:
    api.answers[("DELETE", PATH)] = OP
    assert CliRunner().invoke(app, ["autoscale", "off", "shop/web/prod", "--no-wait"]).exit_code == 0
    api.answers[("GET", PATH)] = {**SHOWN, "policy": None, "decision": None}
    result = CliRunner().invoke(app, ["autoscale", "show", "shop/web/prod"])
    assert result.stdout == "no autoscale policy (version 4, 2 instances)\n"
