"""`dockyard inspect ...`: inspection runs and their reports, differences, runs on demand and the
platform's schedule (platform admins)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from dockyard.cli.common import ServerOpt, TokenOpt
from dockyard.cli.common import client as _client
from dockyard.cli.common import k as _k
from dockyard.cli.errors import fail
from dockyard.cli.output import Format, OutputOpt, show

inspect = typer.Typer(
    help="Inspection of the clusters and of Dockyard: runs, reports, differences, the schedule.",
    no_args_is_help=True,
)
BASE = "/api/v1/inspections"
_RUNS = [
    ("ID", _k("id")),
    ("STATUS", _k("status")),
    ("RESULT", _k("result")),
    ("OK", lambda r: r["counts"].get("ok", 0)),
    ("WARN", lambda r: r["counts"].get("warning", 0)),
    ("FAILED", lambda r: r["counts"].get("failed", 0)),
    ("TRIGGER", _k("trigger")),
    ("BY", _k("requested_by")),
    ("STARTED", _k("started_at")),
]
_FINDINGS = [
    ("CLUSTER", _k("cluster")),
    ("CHECK", _k("check")),
    ("RESULT", _k("result")),
    ("SUMMARY", _k("summary")),
]
_CHANGES = [
    ("CLUSTER", _k("cluster")),
    ("CHECK", _k("check")),
    ("BEFORE", lambda c: c["before"] or "-"),
    ("AFTER", lambda c: c["after"] or "-"),
    ("SUMMARY", _k("summary")),
]
_SCHEDULE = [
    ("cron", _k("cron")),
    ("timezone", _k("timezone")),
    ("enabled", _k("enabled")),
    ("notify system", lambda s: s["notify_system"] or "-"),
    ("next run", _k("next_at")),
    ("changed by", lambda s: s["changed_by"] or "-"),
]


def _report(run: dict[str, Any], output: Format) -> None:
    if output.structured:
        show(run, output)
        return
    counts = run["counts"]
    print(
        f"inspection {run['id']}: {run['status']}, {run['result'] or '-'} "
        f"(ok {counts.get('ok', 0)}, warning {counts.get('warning', 0)}, failed {counts.get('failed', 0)})"
        + (f": {run['error']}" if run["error"] else "")
    )
    show(run["findings"], output, _FINDINGS)
    if run["changes"]:
        print(f"\nchanged since inspection {run['previous_id']}:")
        show(run["changes"], output, _CHANGES)


@inspect.command("list")
def list_runs(
    limit: Annotated[int, typer.Option(help="how many, newest first")] = 20,
    output: OutputOpt = Format.table,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Inspection runs, newest first."""
    with _client(server, token) as client:
        show(client.get(BASE, limit=limit), output, _RUNS)


@inspect.command("show")
def show_run(run_id: int, output: OutputOpt = Format.table, server: ServerOpt = None, token: TokenOpt = None) -> None:
    """One run's report: each check's result per cluster, and what changed since the previous run."""
    with _client(server, token) as client:
        _report(client.get(f"{BASE}/{run_id}"), output)


@inspect.command("diff")
def diff_runs(
    run_id: int,
    against: Annotated[int | None, typer.Option(help="the older run (default: the one before)")] = None,
    output: OutputOpt = Format.table,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """The checks whose result changed between two runs."""
    with _client(server, token) as client:
        answer = client.get(f"{BASE}/{run_id}/diff", against=against)
    if output.structured:
        show(answer, output)
        return
    if answer["against"] is None:
        print(f"inspection {run_id} has no earlier run to compare with: every check is new")
    elif not answer["changes"]:
        print(f"no check changed from inspection {answer['against']} to {run_id}")
        return
    show(answer["changes"], output, _CHANGES)


@inspect.command("run")
def run_now(
    cluster: Annotated[list[str] | None, typer.Option("--cluster", help="only this cluster (repeatable)")] = None,
    output: OutputOpt = Format.table,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Inspect now and print the report; exit 1 if a check failed."""
    with _client(server, token) as client:
        run = client.post(BASE, {"clusters": cluster or []})
    _report(run, output)
    if run["result"] == "failed":
        raise typer.Exit(1)


@inspect.command("schedule")
def schedule(
    cron: Annotated[str | None, typer.Option(help="5 fields, e.g. '30 17 * * *' (daily at 17:30)")] = None,
    timezone: Annotated[str | None, typer.Option(help="an IANA time zone, e.g. Asia/Shanghai")] = None,
    notify: Annotated[str | None, typer.Option(help="the system whose channels are told ('' for none)")] = None,
    enabled: Annotated[bool | None, typer.Option("--enable/--disable", help="turn the schedule on or off")] = None,
    output: OutputOpt = Format.table,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Show the schedule; with options, change them (the rest is kept)."""
    with _client(server, token) as client:
        current = client.get(f"{BASE}/schedule")
        if cron is not None or timezone is not None or notify is not None or enabled is not None:
            if cron is not None and not cron.strip():
                fail("--cron must not be empty")
            body = {
                "cron": cron if cron is not None else current["cron"],
                "timezone": timezone if timezone is not None else current["timezone"],
                "enabled": enabled if enabled is not None else current["enabled"],
                "notify_system": notify if notify is not None else current["notify_system"],
            }
            current = client.put(f"{BASE}/schedule", body)
    show(current, output, _SCHEDULE)


# --- remediation -------------------------------------------------------------------------------------

REMEDIATION = "/api/v1/remediation"
_POLICY = [
    ("mode", _k("mode")),
    ("paused", _k("paused")),
    ("max share of a pool", _k("max_share")),
    ("quiet seconds", _k("quiet_seconds")),
    ("changed by", lambda p: p["changed_by"] or "-"),
]
_PLANNED = [("CLUSTER", _k("cluster")), ("NODE", _k("node")), ("ACTION", _k("kind")), ("WHY", _k("reason"))]
_HISTORY = [
    ("AT", _k("at")),
    ("CLUSTER", _k("cluster")),
    ("NODE", _k("node")),
    ("ACTION", _k("kind")),
    ("REASON", _k("reason")),
    ("MODE", _k("mode")),
    ("OUTCOME", _k("outcome")),
]


@inspect.command("remediation")
def remediation_policy(
    mode: Annotated[str | None, typer.Option(help="off, dry-run or on")] = None,
    paused: Annotated[bool | None, typer.Option("--pause/--resume", help="the platform-wide pause switch")] = None,
    max_share: Annotated[float | None, typer.Option(help="at most this share of a pool at once, e.g. 0.49")] = None,
    quiet: Annotated[float | None, typer.Option(help="seconds a problem stays clear before giving a node back")] = None,
    output: OutputOpt = Format.table,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Show the remediation policy; with options, change them (the rest is kept)."""
    with _client(server, token) as client:
        current = client.get(REMEDIATION)
        if mode is not None or paused is not None or max_share is not None or quiet is not None:
            body = {
                "mode": mode if mode is not None else current["mode"],
                "paused": paused if paused is not None else current["paused"],
                "max_share": max_share if max_share is not None else current["max_share"],
                "quiet_seconds": quiet if quiet is not None else current["quiet_seconds"],
            }
            current = client.put(REMEDIATION, body)
    show(current, output, _POLICY)


@inspect.command("plan")
def remediation_plan(output: OutputOpt = Format.table, server: ServerOpt = None, token: TokenOpt = None) -> None:
    """What remediation would do now (nothing is changed): nodes to take or give back, and held ones."""
    with _client(server, token) as client:
        plans = client.get(f"{REMEDIATION}/plan")
    if output.structured:
        show(plans, output)
        return
    rows = [{"cluster": p["cluster"], **a} for p in plans for a in p["actions"]]
    rows += [
        {"cluster": p["cluster"], "node": h["node"], "kind": "held", "reason": h["why"]}
        for p in plans
        for h in p["held"]
    ]
    if not rows:
        print("nothing to do: no node has a problem, none to give back")
        return
    show(rows, output, _PLANNED)


@inspect.command("history")
def remediation_history(
    node: Annotated[str | None, typer.Option(help="only this node")] = None,
    cluster: Annotated[str | None, typer.Option(help="only this cluster")] = None,
    output: OutputOpt = Format.table,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """What remediation did, would have done (dry run) or held back, newest first."""
    with _client(server, token) as client:
        show(client.get(f"{REMEDIATION}/history", node=node, cluster=cluster), output, _HISTORY)
