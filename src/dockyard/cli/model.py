"""CLI commands over the REST API: systems, applications, groups, versions, deploys and history.

Groups are addressed as ``SYSTEM/APP/GROUP``. Actions print a live progress display and end with the
result; they exit 1 when the operation fails (``--no-wait`` returns once it is accepted).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
import yaml
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from dockyard.cli.client import Client, segment
from dockyard.cli.common import ServerOpt, TokenOpt
from dockyard.cli.common import client as _client
from dockyard.cli.common import k as _k
from dockyard.cli.errors import fail
from dockyard.cli.kubeconfigs import read_kubeconfig
from dockyard.cli.output import Format, OutputOpt, age, console, show
from dockyard.cli.placement import cluster_status, show_preview
from dockyard.domain.clusters import IN_CLUSTER

F = TypeVar("F", bound=Callable[..., Any])

clusters = typer.Typer(help="Registered Kubernetes clusters.", no_args_is_help=True)
systems = typer.Typer(help="Systems: one namespace per cluster, owning applications.", no_args_is_help=True)
apps = typer.Typer(help="Applications in a system (SYSTEM/APP).", no_args_is_help=True)
groups = typer.Typer(help="Groups: an application's deployable units (SYSTEM/APP/GROUP).", no_args_is_help=True)
operations = typer.Typer(help="Operations (deploys, scales, rollbacks...).", no_args_is_help=True)


def _split(target: str, parts: int, what: str) -> list[str]:
    pieces = target.split("/")
    if len(pieces) != parts or not all(pieces):
        fail(f"{target!r} is not {what}")
    return pieces


def _group_path(target: str) -> str:
    system, app, group = _split(target, 3, "SYSTEM/APP/GROUP")
    return f"/api/v1/systems/{segment(system)}/apps/{segment(app)}/groups/{segment(group)}"


def _pairs(items: list[str], what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            fail(f"{what} {item!r} must be KEY=VALUE")
        out[key] = value
    return out


# clusters ----------------------------------------------------------------------------------------
_CLUSTER_COLUMNS = [
    ("NAME", _k("name")),
    ("LABELS", _k("labels")),
    ("CONNECTED", _k("connected")),
    ("DETAIL", _k("detail")),
]


@clusters.command("list")
def cluster_list(output: OutputOpt = Format.table, server: ServerOpt = None, token: TokenOpt = None) -> None:
    with _client(server, token) as client:
        show(client.get("/api/v1/clusters"), output, _CLUSTER_COLUMNS)


clusters.command("status")(cluster_status)


@clusters.command("register")
def cluster_register(
    name: str,
    kubeconfig: Annotated[
        Path | None,
        typer.Option(help="A kubeconfig file here: its context is sent with its credentials embedded"),
    ] = None,
    context: Annotated[str | None, typer.Option(help="The kubeconfig's context to use [its current one]")] = None,
    in_cluster: Annotated[
        bool, typer.Option("--in-cluster", help="The cluster the server runs in (its pod's service account)")
    ] = False,
    label: Annotated[list[str] | None, typer.Option(help="idc=..., provider=idc|cloud, region=...")] = None,
    output: OutputOpt = Format.table,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Register or update a cluster (platform admins). The server stores the kubeconfig sealed."""
    if (kubeconfig is None) == (not in_cluster):
        fail("give --kubeconfig FILE or --in-cluster")
    content = IN_CLUSTER if kubeconfig is None else read_kubeconfig(kubeconfig, context=context)
    body = {"name": name, "kubeconfig": content, "labels": _pairs(label or [], "label")}
    with _client(server, token) as client:
        show(client.put(f"/api/v1/clusters/{segment(name)}", body), output, _CLUSTER_COLUMNS)


# systems -----------------------------------------------------------------------------------------
_SYSTEM_COLUMNS = [
    ("NAME", _k("name")),
    ("CPU QUOTA (m)", lambda s: s["quota"]["cpu_millis"] or "-"),
    ("MEMORY QUOTA (Mi)", lambda s: s["quota"]["memory_mib"] or "-"),
    ("DESCRIPTION", _k("description")),
]


@systems.command("create")
def system_create(
    name: str,
    description: str = "",
    cpu_millis: Annotated[int, typer.Option(help="CPU quota per cluster, in millicores (0: none)")] = 0,
    memory_mib: Annotated[int, typer.Option(help="Memory quota per cluster, in MiB (0: none)")] = 0,
    output: OutputOpt = Format.table,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    body = {"name": name, "description": description, "quota": {"cpu_millis": cpu_millis, "memory_mib": memory_mib}}
    with _client(server, token) as client:
        show(client.post("/api/v1/systems", body), output, _SYSTEM_COLUMNS)


@systems.command("list")
def system_list(output: OutputOpt = Format.table, server: ServerOpt = None, token: TokenOpt = None) -> None:
    with _client(server, token) as client:
        show(client.get("/api/v1/systems"), output, _SYSTEM_COLUMNS)


@systems.command("show")
def system_show(name: str, output: OutputOpt = Format.table, server: ServerOpt = None, token: TokenOpt = None) -> None:
    with _client(server, token) as client:
        show(client.get(f"/api/v1/systems/{segment(name)}"), output, _SYSTEM_COLUMNS)


@systems.command("delete")
def system_delete(name: str, server: ServerOpt = None, token: TokenOpt = None) -> None:
    """Delete an empty system."""
    with _client(server, token) as client:
        client.delete(f"/api/v1/systems/{segment(name)}")
    print(f"system {name} deleted")


# applications ------------------------------------------------------------------------------------
_APP_COLUMNS = [
    ("SYSTEM", _k("system")),
    ("NAME", _k("name")),
    ("REPOSITORY", _k("repository")),
    ("BUSINESS ID", _k("business_id")),
    ("OWNERS", lambda a: ", ".join(a["owners"])),
]


@apps.command("create")
def app_create(
    target: Annotated[str, typer.Argument(metavar="SYSTEM/APP")],
    repository: Annotated[str, typer.Option(help="Image repository, e.g. registry.local/shop/web")],
    business_id: str = "",
    owner: Annotated[list[str] | None, typer.Option(help="An owner (repeatable)")] = None,
    output: OutputOpt = Format.table,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    system, name = _split(target, 2, "SYSTEM/APP")
    body = {"name": name, "repository": repository, "business_id": business_id, "owners": owner or []}
    with _client(server, token) as client:
        show(client.post(f"/api/v1/systems/{segment(system)}/apps", body), output, _APP_COLUMNS)


@apps.command("list")
def app_list(system: str, output: OutputOpt = Format.table, server: ServerOpt = None, token: TokenOpt = None) -> None:
    with _client(server, token) as client:
        show(client.get(f"/api/v1/systems/{segment(system)}/apps"), output, _APP_COLUMNS)


@apps.command("show")
def app_show(
    target: Annotated[str, typer.Argument(metavar="SYSTEM/APP")],
    output: OutputOpt = Format.table,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    system, name = _split(target, 2, "SYSTEM/APP")
    with _client(server, token) as client:
        show(client.get(f"/api/v1/systems/{segment(system)}/apps/{segment(name)}"), output, _APP_COLUMNS)


@apps.command("delete")
def app_delete(
    target: Annotated[str, typer.Argument(metavar="SYSTEM/APP")], server: ServerOpt = None, token: TokenOpt = None
) -> None:
    """Delete an application without groups."""
    system, name = _split(target, 2, "SYSTEM/APP")
    with _client(server, token) as client:
        client.delete(f"/api/v1/systems/{segment(system)}/apps/{segment(name)}")
    print(f"application {target} deleted")


# groups ------------------------------------------------------------------------------------------
_GROUP_COLUMNS = [
    ("NAME", _k("name")),
    ("ENV", _k("environment")),
    ("CLUSTER", _k("cluster")),
    ("VERSION", _k("current_version")),
    ("LATEST", _k("latest_version")),
]
_STATUS_COLUMNS = [
    *_GROUP_COLUMNS,
    ("STATE", lambda g: g["status"]["state"] + (" (stale)" if g["status"]["stale"] else "")),
    ("READY", lambda g: f"{g['status']['ready']}/{g['status']['wanted']}"),
    ("DRIFT", lambda g: ", ".join(d["field"] for d in g["status"]["drift"]) or "-"),
    ("OPERATION", lambda g: g["status"]["operation"]),
]

GroupArg = Annotated[str, typer.Argument(metavar="SYSTEM/APP/GROUP")]


@groups.command("create")
def group_create(
    target: GroupArg,
    env: Annotated[str, typer.Option("--env", help="dev, test or prod")],
    cluster: Annotated[str, typer.Option(help="A registered cluster")] = "local",
    output: OutputOpt = Format.table,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    system, app, name = _split(target, 3, "SYSTEM/APP/GROUP")
    body = {"name": name, "environment": env, "cluster": cluster}
    with _client(server, token) as client:
        show(client.post(f"/api/v1/systems/{segment(system)}/apps/{segment(app)}/groups", body), output, _GROUP_COLUMNS)


@groups.command("list")
def group_list(
    target: Annotated[str, typer.Argument(metavar="SYSTEM/APP")],
    output: OutputOpt = Format.table,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    system, app = _split(target, 2, "SYSTEM/APP")
    with _client(server, token) as client:
        show(client.get(f"/api/v1/systems/{segment(system)}/apps/{segment(app)}/groups"), output, _GROUP_COLUMNS)


@groups.command("show")
def group_show(
    target: GroupArg, output: OutputOpt = Format.table, server: ServerOpt = None, token: TokenOpt = None
) -> None:
    """The group with its live state: ready instances, drift, the operation under way."""
    with _client(server, token) as client:
        show(client.get(_group_path(target)), output, _STATUS_COLUMNS)


@groups.command("delete")
def group_delete(
    target: GroupArg,
    no_wait: Annotated[bool, typer.Option("--no-wait", help="Return once accepted")] = False,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Remove the group's objects from its cluster, then the group."""
    with _client(server, token) as client:
        _follow(client, target, client.delete(_group_path(target)), no_wait)


# actions -----------------------------------------------------------------------------------------
NoWait = Annotated[bool, typer.Option("--no-wait", help="Return once the operation is accepted")]
Deadline = Annotated[int, typer.Option("--deadline", help="Seconds until the operation fails if not done")]
Force = Annotated[bool, typer.Option("--force", help="Go ahead even if the preview says some instances would not fit")]


def deploy(
    target: GroupArg,
    version: Annotated[int | None, typer.Option("--version", help="Deploy this existing version")] = None,
    spec: Annotated[Path | None, typer.Option("--spec", help="A whole version spec (YAML or JSON file)")] = None,
    image: Annotated[str | None, typer.Option(help="New image (changes the latest version)")] = None,
    build: Annotated[
        str | None, typer.Option("--build", help="A succeeded build: its image, pinned by digest (changes the latest)")
    ] = None,
    flavor: Annotated[str | None, typer.Option(help="New flavor: tiny, small, medium, large, xlarge")] = None,
    instances: Annotated[int | None, typer.Option(help="New instance count")] = None,
    env: Annotated[list[str] | None, typer.Option(help="NAME=value (repeatable; replaces env)")] = None,
    secret_env: Annotated[
        list[str] | None,
        typer.Option(
            "--secret-env",
            help="NAME of a secret env var, its value taken from this shell's $NAME, never from the command "
            "line (repeatable; replaces secret env; stored sealed, shown masked)",
        ),
    ] = None,
    config_file: Annotated[
        list[str] | None, typer.Option("--config-file", help="PATH=LOCAL_FILE (repeatable; replaces config files)")
    ] = None,
    reason: str = "",
    deadline: Deadline = 300,
    no_wait: NoWait = False,
    force: Force = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only show where the instances would land (the placement preview)")
    ] = False,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Deploy a version: an existing one (--version), a whole spec (--spec), or changes to the latest."""
    body: dict[str, Any] = {"reason": reason, "deadline_seconds": deadline, "force": force}
    changes: dict[str, Any] = {}
    for key, value in (("image", image), ("build", build), ("flavor", flavor), ("instances", instances)):
        if value is not None:
            changes[key] = value
    if env is not None:
        changes["env"] = _pairs(env, "env")
    if secret_env is not None:
        changes["secret_env"] = {name: _from_environment(name) for name in secret_env}
    if config_file is not None:
        changes["config_files"] = {p: _read(f) for p, f in _pairs(config_file, "config file").items()}
    if sum(x is not None and x != {} for x in (version, spec, changes or None)) != 1:
        fail(
            "give --version, --spec, or changes (--image, --build, --flavor, --instances, --env, --secret-env, "
            "--config-file)"
        )
    if version is not None:
        body["version"] = version
    elif spec is not None:
        body["spec"] = _load_spec(spec)
    else:
        body["changes"] = changes
    if dry_run:
        preview = {k: v for k, v in body.items() if k in ("version", "spec", "changes")}
        with _client(server, token) as client:
            show_preview(client, _group_path(target), preview, Format.table)
        return
    _act(target, "deploy", body, no_wait, server, token)


def preview(
    target: GroupArg,
    version: Annotated[int | None, typer.Option("--version", help="An existing version")] = None,
    spec: Annotated[Path | None, typer.Option("--spec", help="A whole version spec (YAML or JSON file)")] = None,
    instances: Annotated[int | None, typer.Option(help="The latest version with this instance count")] = None,
    flavor: Annotated[str | None, typer.Option(help="The latest version with this flavor")] = None,
    output: OutputOpt = Format.table,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Where a deploy would land: per cluster, how many instances fit and the scheduler's reasons for the
    others (from Dockyard's caches; nothing is created). Exit 1 when some would not fit."""
    changes = {k: v for k, v in (("instances", instances), ("flavor", flavor)) if v is not None}
    body: dict[str, Any] = {}
    if sum(x is not None for x in (version, spec, changes or None)) > 1:
        fail("give --version, --spec, or changes (--instances, --flavor)")
    if version is not None:
        body["version"] = version
    elif spec is not None:
        body["spec"] = _load_spec(spec)
    else:
        body["changes"] = changes
    with _client(server, token) as client:
        show_preview(client, _group_path(target), body, output)


def scale(
    target: GroupArg,
    instances: int,
    deadline: Deadline = 300,
    no_wait: NoWait = False,
    force: Force = False,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Run another number of instances (a new version, copy of the running one)."""
    body = {"instances": instances, "deadline_seconds": deadline, "force": force}
    _act(target, "scale", body, no_wait, server, token)


def rollback(
    target: GroupArg,
    version: int,
    deadline: Deadline = 300,
    no_wait: NoWait = False,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Deploy an earlier version exactly as it was, without rebuilding."""
    body = {"version": version, "deadline_seconds": deadline}
    _act(target, "rollback", body, no_wait, server, token)


def reconcile(
    target: GroupArg,
    deadline: Deadline = 300,
    no_wait: NoWait = False,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Apply the running version again, taking back what was changed by hand."""
    _act(target, "reconcile", {"deadline_seconds": deadline}, no_wait, server, token)


def _act(target: str, action: str, body: dict[str, Any], no_wait: bool, server: str | None, token: str | None) -> None:
    with _client(server, token) as client:
        _follow(client, target, client.post(f"{_group_path(target)}/{action}", body), no_wait)


def _from_environment(name: str) -> str:
    if name not in os.environ:
        fail(f"--secret-env {name}: set ${name} in the environment to its value")
    return os.environ[name]


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except (OSError, UnicodeDecodeError) as e:
        fail(f"cannot read config file {path}: {type(e).__name__}")


def _load_spec(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        fail(f"cannot read spec {path}: {type(e).__name__}")


def _follow(client: Client, target: str, operation: dict[str, Any], no_wait: bool) -> None:
    """Show the operation's progress until it ends; exit 1 if it failed."""
    what = f"{operation['action']} of {target}" + (
        f" to version {operation['params']['version']}" if "version" in operation["params"] else ""
    )
    if no_wait:
        print(f"{what}: accepted as operation {operation['id']}")
        return
    started = time.monotonic()
    # The server ends every operation by its deadline (+ a grace for a stuck runner); do not outwait it.
    give_up = started + int(operation["params"].get("deadline_seconds", 300)) + 180
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[ready]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(what, total=None, ready="")
        while operation["status"] not in ("succeeded", "failed"):
            if time.monotonic() > give_up:
                status, op_id = operation["status"], operation["id"]
                fail(f"{what}: still {status} after its deadline; see `dockyard operation show {op_id}`")
            time.sleep(0.5)
            operation = client.get(f"/api/v1/operations/{operation['id']}")
            if operation["action"] != "delete-group":
                status = client.get(_group_path(target))["status"]
                progress.update(
                    task,
                    total=status["wanted"] or None,
                    completed=status["ready"],
                    ready=f"{status['ready']}/{status['wanted']} ready",
                )
    took = time.monotonic() - started
    if operation["status"] == "failed":
        fail(f"{what} failed after {took:.1f}s: {operation['error']}")
    console.print(f"{what} succeeded in {took:.1f}s (operation {operation['id']})")


# reads -------------------------------------------------------------------------------------------
def instances(
    target: GroupArg, output: OutputOpt = Format.table, server: ServerOpt = None, token: TokenOpt = None
) -> None:
    """The group's instances, live from the cluster's watch cache."""
    with _client(server, token) as client:
        body = client.get(f"{_group_path(target)}/instances")
    if output is not Format.table:
        show(body, output)
        return
    if body["stale"]:
        console.print("[yellow]the cluster is unreachable: showing the last known state[/yellow]")
    show(
        body["items"],
        output,
        [
            ("NAME", _k("name")),
            ("STATUS", _k("phase")),
            ("READY", _k("ready")),
            ("RESTARTS", _k("restarts")),
            ("POD IP", _k("pod_ip")),
            ("HOST IP", _k("host_ip")),
            ("NODE", _k("node")),
            ("VERSION", _k("version")),
            ("AGE", lambda i: age(i["age_seconds"])),
            ("REASON", lambda i: i["reason"] or ("terminating" if i["deleting"] else "")),
        ],
    )


def versions(
    target: GroupArg, output: OutputOpt = Format.table, server: ServerOpt = None, token: TokenOpt = None
) -> None:
    """The group's versions, oldest first; * marks the running one."""
    with _client(server, token) as client:
        group = client.get(_group_path(target))
        items = client.get(f"{_group_path(target)}/versions")
    current = group["current_version"]
    show(
        items,
        output,
        [
            ("", lambda v: "*" if v["number"] == current else ""),
            ("VERSION", _k("number")),
            ("IMAGE", lambda v: v["spec"]["image"]),
            ("FLAVOR", lambda v: v["spec"]["flavor"]),
            ("INSTANCES", lambda v: v["spec"]["instances"]),
            ("BY", _k("created_by")),
            ("CREATED", _k("created_at")),
            ("REASON", _k("reason")),
        ],
    )


def diff(
    target: GroupArg,
    old: int,
    new: int,
    output: OutputOpt = Format.table,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """What changes from version OLD to version NEW."""
    with _client(server, token) as client:
        body = client.get(f"{_group_path(target)}/diff", old=old, new=new)
    if output is not Format.table:
        show(body, output)
        return
    if not body["changes"]:
        print(f"versions {old} and {new} are the same")
        return
    show(body["changes"], output, [("FIELD", _k("field")), (f"V{old}", _k("expected")), (f"V{new}", _k("live"))])


def history(
    target: Annotated[str, typer.Argument(metavar="SYSTEM[/APP[/GROUP]]")],
    limit: int = 50,
    output: OutputOpt = Format.table,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Operations, newest first: who did what, when, and how it ended."""
    parts = target.split("/")
    if not 1 <= len(parts) <= 3 or not all(parts):
        fail(f"{target!r} is not SYSTEM, SYSTEM/APP or SYSTEM/APP/GROUP")
    path = "/api/v1/systems/" + segment(parts[0])
    if len(parts) > 1:
        path += f"/apps/{segment(parts[1])}"
    if len(parts) > 2:
        path += f"/groups/{segment(parts[2])}"
    with _client(server, token) as client:
        items = client.get(f"{path}/operations", limit=limit)
    show(
        items,
        output,
        [
            ("STARTED", _k("started_at")),
            ("ACTION", _k("action")),
            ("TARGET", lambda o: "/".join(p for p in (o["system"], o["app"], o["group"]) if p)),
            ("VERSION", lambda o: o["params"].get("version")),
            ("ACTOR", _k("actor")),
            ("STATUS", _k("status")),
            ("ERROR", _k("error")),
        ],
    )


@operations.command("show")
def operation_show(
    operation_id: str, output: OutputOpt = Format.table, server: ServerOpt = None, token: TokenOpt = None
) -> None:
    with _client(server, token) as client:
        show(client.get(f"/api/v1/operations/{segment(operation_id)}"), output)
