"""`dockyard inspect`: what it sends and what it prints."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from typer.testing import CliRunner

from dockyard.cli.main import app

if TYPE_CHECKING:
    from tests.unit.cli.conftest import FakeApi

BASE = "/api/v1/inspections"


def run(result: str = "failed", changes: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "id": 7,
        "trigger": "manual",
        "requested_by": "admin",
        "clusters": ["local"],
        "status": "done",
        "result": result,
        "counts": {"ok": 1, "warning": 0, "failed": 1 if result == "failed" else 0},
        "started_at": "2026-12-02T17:30:00Z",
        "finished_at": "2026-12-02T17:30:02Z",
        "previous_id": 6,
        "error": "",
        "findings": [
            {
                "cluster": "local",
                "check": "apiserver",
                "result": "ok",
                "summary": "/readyz ok (v1.34.1)",
                "evidence": {},
                "since": None,
            },
            {
                "cluster": "local",
                "check": "kernel",
                "result": result,
                "summary": "1 node(s) report KernelDeadlock: n3",
                "evidence": {},
                "since": "2026-12-02T17:30:00Z",
            },
        ],
        "changes": changes or [],
    }


KERNEL_CHANGE = {"cluster": "local", "check": "kernel", "before": "ok", "after": "failed", "summary": "n3"}


def test_run_sends_the_clusters_prints_the_report_and_exits_1_on_a_failure(api: FakeApi) -> None:
    api.answers[("POST", BASE)] = run(changes=[KERNEL_CHANGE])
    result = CliRunner().invoke(app, ["inspect", "run", "--cluster", "local"])
    assert result.exit_code == 1, result.output
    assert api.sent == [("POST", BASE, {"clusters": ["local"]})]
    lines = result.stdout.splitlines()
    assert lines[0] == "inspection 7: done, failed (ok 1, warning 0, failed 1)"
    assert any("kernel" in line and "KernelDeadlock: n3" in line for line in lines)
    assert "changed since inspection 6:" in result.stdout


def test_run_of_everything_exits_0_when_nothing_failed(api: FakeApi) -> None:
    api.answers[("POST", BASE)] = run("ok")
    result = CliRunner().invoke(app, ["inspect", "run"])
    assert result.exit_code == 0, result.output
    assert api.sent == [("POST", BASE, {"clusters": []})]


def test_list_show_and_diff(api: FakeApi) -> None:
    api.answers[("GET", BASE)] = [{k: v for k, v in run().items() if k not in ("findings", "changes")}]
    api.answers[("GET", f"{BASE}/7")] = run()
    api.answers[("GET", f"{BASE}/7/diff")] = {"run": 7, "against": 6, "changes": [KERNEL_CHANGE]}
    listed = CliRunner().invoke(app, ["inspect", "list"])
    assert listed.exit_code == 0, listed.output
    assert listed.stdout.splitlines()[1].split()[:6] == ["7", "done", "failed", "1", "0", "1"]
    shown = CliRunner().invoke(app, ["inspect", "show", "7"])
    assert shown.exit_code == 0, shown.output
    assert "KernelDeadlock" in shown.stdout
    diffed = CliRunner().invoke(app, ["inspect", "diff", "7"])
    assert diffed.exit_code == 0, diffed.output
    assert diffed.stdout.splitlines()[1].split()[:4] == ["local", "kernel", "ok", "failed"]
    api.answers[("GET", f"{BASE}/7/diff")] = {"run": 7, "against": 6, "changes": []}
    same = CliRunner().invoke(app, ["inspect", "diff", "7"])
    assert same.stdout == "no check changed from inspection 6 to 7\n"


SCHEDULE = {
    "cron": "30 17 * * *",
    "timezone": "UTC",
    "enabled": True,
    "notify_system": "",
    "next_at": "x",
    "changed_by": "",
    "changed_at": None,
}


def test_schedule_shows_and_changes_only_what_is_given(api: FakeApi) -> None:
    api.answers[("GET", f"{BASE}/schedule")] = SCHEDULE
    api.answers[("PUT", f"{BASE}/schedule")] = lambda body: {**SCHEDULE, **body}
    shown = CliRunner().invoke(app, ["inspect", "schedule"])
    assert shown.exit_code == 0, shown.output
    assert "30 17 * * *" in shown.stdout
    assert [m for m, _, _ in api.sent] == ["GET"]
    changed = CliRunner().invoke(app, ["inspect", "schedule", "--timezone", "Asia/Shanghai", "--notify", "ops"])
    assert changed.exit_code == 0, changed.output
    assert api.sent[-1] == (
        "PUT",
        f"{BASE}/schedule",
        {"cron": "30 17 * * *", "timezone": "Asia/Shanghai", "enabled": True, "notify_system": "ops"},
    )
    off = CliRunner().invoke(app, ["inspect", "schedule", "--disable"])
    assert off.exit_code == 0, off.output
    assert api.sent[-1][2]["enabled"] is False


POLICY = {"mode": "off", "paused": False, "max_share": 0.49, "quiet_seconds": 300.0, "changed_by": ""}


def test_remediation_policy_pause_and_resume(api: FakeApi) -> None:
    api.answers[("GET", "/api/v1/remediation")] = POLICY
    api.answers[("PUT", "/api/v1/remediation")] = lambda body: {**POLICY, **body}
    paused = CliRunner().invoke(app, ["inspect", "remediation", "--pause"])
    assert paused.exit_code == 0, paused.output
    assert api.sent[-1] == (
        "PUT",
        "/api/v1/remediation",
        {**{k: POLICY[k] for k in POLICY if k != "changed_by"}, "paused": True},
    )
    on = CliRunner().invoke(app, ["inspect", "remediation", "--mode", "on", "--max-share", "0.3"])
    assert on.exit_code == 0, on.output
    assert (api.sent[-1][2]["mode"], api.sent[-1][2]["max_share"]) == ("on", 0.3)


def test_plan_lists_actions_and_held_nodes(api: FakeApi) -> None:
    api.answers[("GET", "/api/v1/remediation/plan")] = [
        {
            "cluster": "local",
            "actions": [{"node": "n1", "kind": "take", "reason": "KernelDeadlock"}],
            "held": [{"node": "n2", "problem": "KernelDeadlock", "why": "pool general: 1 of 2 nodes already taken"}],
        },
    ]
    result = CliRunner().invoke(app, ["inspect", "plan"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[1].split()[:4] == ["local", "n1", "take", "KernelDeadlock"]
    assert lines[2].split()[:3] == ["local", "n2", "held"]
    api.answers[("GET", "/api/v1/remediation/plan")] = [{"cluster": "local", "actions": [], "held": []}]
    assert CliRunner().invoke(app, ["inspect", "plan"]).stdout.startswith("nothing to do")
