"""`dockyard release`: gray and rolling releases of a group, with a live view of their steps.

    dockyard release start shop/web/prod --image r/web:2 --steps "gray 2,pause,50%,pause,100%" [--follow|--no-wait]
    dockyard release start shop/web/prod --image r/web:2 --steps "gray 1,pause,weight 50%,pause,100%"
    dockyard release start shop/web/prod --image r/web:2 --steps "gray 1,analyze p99;error_ratio,100%" \
        --analysis interval_seconds=30 --analysis passes=3
    dockyard release status shop/web/prod [ID] [--watch]
    dockyard release promote shop/web/prod [ID] [--full]
    dockyard release pause|resume|abort shop/web/prod [ID]

ID defaults to the group's newest release. `release start` waits, like every long command, until the
release needs you (paused at a step, for `promote`) or ends, and exits 1 if it ends aborted or failed;
``--no-wait`` returns once it is accepted. ``--follow`` / ``--watch`` redraw the steps, the instance
counts per version (live, from the cluster), the new version's share of requests at the edge load
balancer (``weight P%`` steps; "by instance counts" before one) and the last ledger entries until the
release ends; the command exits 1 if it ends aborted or failed.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dockyard.cli.client import Client, segment
from dockyard.cli.common import ServerOpt, TokenOpt, client
from dockyard.cli.errors import fail
from dockyard.cli.output import Format, OutputOpt, console, show
from dockyard.cli.targets import GroupArg, group_path, what_to_deploy

if TYPE_CHECKING:
    from rich.console import Group

app = typer.Typer(help="Releases of a group: gray (steps) or rolling.", no_args_is_help=True)
IdArg = Annotated[str | None, typer.Argument(help="The release (default: the group's newest)")]
ENDED = ("succeeded", "aborted", "failed")
# Where `release start` stops waiting: the release ended, or it waits for the user (`promote`).
SETTLED = (*ENDED, "paused")


@app.command("start")
def start(
    target: GroupArg,
    version: Annotated[int | None, typer.Option("--version", help="Release this existing version")] = None,
    spec: Annotated[Path | None, typer.Option("--spec", help="A whole version spec (YAML or JSON file)")] = None,
    image: Annotated[str | None, typer.Option(help="New image (changes the latest, or makes the first)")] = None,
    build: Annotated[str | None, typer.Option("--build", help="A succeeded build's image, by digest")] = None,
    flavor: Annotated[str | None, typer.Option(help="New flavor")] = None,
    steps: Annotated[
        str, typer.Option(help="Comma-separated: 'gray N', 'P%', 'weight P%' (of requests), 'pause', 'pause 5m'")
    ] = "100%",
    strategy: Annotated[str, typer.Option(help="gray, blue-green or rolling")] = "gray",
    keep: Annotated[int, typer.Option(help="blue-green: seconds the old set is kept after the switch")] = 300,
    analysis: Annotated[
        list[str] | None,
        typer.Option(help="How 'analyze' steps judge, FIELD=VALUE: interval_seconds, passes, min_requests, p99_ratio…"),
    ] = None,
    step_deadline: Annotated[int, typer.Option(help="Seconds a step may take before the release aborts")] = 300,
    reason: str = "",
    follow: Annotated[bool, typer.Option("--follow", help="Show the release live until it ends")] = False,
    no_wait: Annotated[bool, typer.Option("--no-wait", help="Return once the release is accepted")] = False,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Start a release of a version: an existing one, a whole spec, or changes to the latest; wait
    until it pauses for `promote` or ends (exit 1 if it ends aborted or failed)."""
    if follow and no_wait:
        fail("give --follow or --no-wait, not both")
    body: dict[str, Any] = {"strategy": strategy, "reason": reason, "step_deadline_seconds": step_deadline}
    if strategy == "gray":
        # ';' joins the checks of one 'analyze' step, since ',' separates the steps.
        body["steps"] = [s.strip().replace(";", ",") for s in steps.split(",") if s.strip()]
    if analysis:
        body["analysis"] = _analysis(analysis)
    if strategy == "blue-green":
        body["keep_seconds"] = keep
    changes = {k: v for k, v in (("image", image), ("build", build), ("flavor", flavor)) if v is not None}
    body |= what_to_deploy(version, spec, changes, flags="--image, --build, --flavor")
    with client(server, token) as api:
        release = api.post(f"{group_path(target)}/releases", body)
        print(
            f"release {release['id']} of {target}: version {release['stable_version']} → {release['new_version']}",
            flush=True,
        )
        if follow:
            _watch(api, target, release["id"])
        elif not no_wait:
            _wait(api, target, release["id"])


def _analysis(items: list[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not sep or not math.isfinite(number):
            fail(f"--analysis takes FIELD=NUMBER, like interval_seconds=30 (got {item!r})")
        out[name.strip()] = int(number) if number.is_integer() else number
    return out


@app.command("list")
def list_(target: GroupArg, output: OutputOpt = Format.table, server: ServerOpt = None, token: TokenOpt = None) -> None:
    with client(server, token) as api:
        items = api.get(f"{group_path(target)}/releases")
    show(
        items,
        output,
        [
            ("ID", lambda r: r["id"]),
            ("STRATEGY", lambda r: r["strategy"]),
            ("VERSIONS", lambda r: f"{r['stable_version']} → {r['new_version']}"),
            ("STATUS", lambda r: r["status"]),
            ("STEP", lambda r: f"{r['step'] + 1}/{len(r['steps'])}"),
            ("BY", lambda r: r["created_by"]),
        ],
        [("CREATED", lambda r: r.get("created_at")), ("ERROR", lambda r: r.get("error") or "-")],
    )


@app.command("status")
def status(
    target: GroupArg,
    release_id: IdArg = None,
    watch: Annotated[bool, typer.Option("--watch", help="Redraw until the release ends")] = False,
    output: OutputOpt = Format.table,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    with client(server, token) as api:
        rid = release_id or _newest(api, target)
        if watch:
            _watch(api, target, rid)
            return
        release = api.get(f"{group_path(target)}/releases/{segment(rid)}")
        if output.structured:
            show(release, output, [])
            return
        console().print(_view(release, _live_counts(api, target)))


def _command(
    target: str, release_id: str | None, what: str, body: dict[str, Any], server: str | None, token: str | None
) -> None:
    with client(server, token) as api:
        rid = release_id or _newest(api, target)
        release = api.post(f"{group_path(target)}/releases/{segment(rid)}/{what}", body)
    print(f"release {rid}: {what} taken ({release['status']}, step {release['step'] + 1}/{len(release['steps'])})")


@app.command("promote")
def promote(
    target: GroupArg,
    release_id: IdArg = None,
    full: Annotated[bool, typer.Option("--full", help="Skip to 100%")] = False,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """End the pause the release waits at (--full: go to 100%)."""
    _command(target, release_id, "promote", {"full": full}, server, token)


@app.command("pause")
def pause(target: GroupArg, release_id: IdArg = None, server: ServerOpt = None, token: TokenOpt = None) -> None:
    _command(target, release_id, "pause", {}, server, token)


@app.command("resume")
def resume(target: GroupArg, release_id: IdArg = None, server: ServerOpt = None, token: TokenOpt = None) -> None:
    _command(target, release_id, "resume", {}, server, token)


@app.command("abort")
def abort(target: GroupArg, release_id: IdArg = None, server: ServerOpt = None, token: TokenOpt = None) -> None:
    """Back to the stable version at full count."""
    _command(target, release_id, "abort", {}, server, token)


def _newest(api: Client, target: str) -> str:
    found = api.get(f"{group_path(target)}/releases")
    if not found:
        fail(f"{target} has no release")
    return str(found[0]["id"])


def _live_counts(api: Client, target: str) -> Counter[str]:
    """Ready instances per version, from the group's instances (the cluster's watch cache)."""
    instances = api.get(f"{group_path(target)}/instances")
    return Counter(i["version"] for i in instances.get("items", []) if i.get("ready"))


def _view(release: dict[str, Any], ready: Counter[str]) -> Group:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    steps = Table(title=f"release {release['id']} · {release['status']}", show_edge=False)
    steps.add_column("")
    steps.add_column("STEP")
    for i, step in enumerate(release["steps"]):
        mark = "▶" if i == release["step"] and release["status"] not in ENDED else ("✓" if i < release["step"] else "")
        steps.add_row(mark, step)
    counts = Table(show_edge=False)
    for column in ("VERSION", "WANTED", "READY"):
        counts.add_column(column)
    new, stable = str(release["new_version"]), str(release["stable_version"])
    counts.add_row(f"{new} (new)", str(release["new_instances"]), str(ready.get(new, 0)))
    counts.add_row(f"{stable} (stable)", str(release["stable_instances"]), str(ready.get(stable, 0)))
    ledger = Text("\n".join(_entry(e) for e in release["ledger"][-5:]))
    parts: list[Any] = [steps, counts, Text(share(release)), ledger]
    if release["error"]:
        parts.append(Text(f"error: {release['error']}", style="red"))
    return Group(*parts)


def share(release: dict[str, Any]) -> str:
    """The new version's share of requests at the edge load balancer, as one line."""
    value = release.get("edge_share")
    how = "by instance counts" if value is None else f"{value}%"
    return f"requests to version {release['new_version']} (load balancer): {how}"


def _entry(entry: dict[str, Any]) -> str:
    at = str(entry.get("at", ""))[11:19]
    details = ", ".join(f"{k}={v}" for k, v in entry.items() if k not in ("at", "event", "checks"))
    return f"{at} {entry['event']}" + (f" ({details})" if details else "")


def _wait(api: Client, target: str, release_id: str) -> None:
    """Poll the release until it is settled (paused for `promote`, or ended) and say where it stopped;
    exit 1 if it ended aborted or failed."""
    path = f"{group_path(target)}/releases/{segment(release_id)}"
    release = api.get(path)
    while release["status"] not in SETTLED:
        time.sleep(0.5)
        release = api.get(path)
    if release["status"] == "paused":
        step = release["step"]
        print(
            f"release {release_id} paused at step {step + 1}/{len(release['steps'])} ({release['steps'][step]}); "
            f"{share(release)}; go on with `dockyard release promote {target}`"
        )
        return
    print(f"release {release_id} {release['status']}" + (f": {release['error']}" if release["error"] else ""))
    if release["status"] != "succeeded":
        raise typer.Exit(1)


def _watch(api: Client, target: str, release_id: str) -> None:
    from rich.live import Live

    path = f"{group_path(target)}/releases/{segment(release_id)}"
    release = api.get(path)
    with Live(_view(release, _live_counts(api, target)), console=console(), refresh_per_second=4) as live:
        while release["status"] not in ENDED:
            time.sleep(0.5)
            release = api.get(path)
            live.update(_view(release, _live_counts(api, target)))
    print(f"release {release_id} {release['status']}" + (f": {release['error']}" if release["error"] else ""))
    if release["status"] != "succeeded":
        raise typer.Exit(1)
