"""`dockyard group ...` and the reads of one group: `instances`, `versions`, `diff`.

Groups are addressed as ``SYSTEM/APP/GROUP``."""

from __future__ import annotations

from typing import Annotated

import typer

from dockyard.cli.client import segment
from dockyard.cli.common import ServerOpt, TokenOpt, client, k
from dockyard.cli.operations import NoWait, follow
from dockyard.cli.output import Format, OutputOpt, age, show
from dockyard.cli.targets import AppArg, GroupArg, group_path, split

groups = typer.Typer(help="Groups: an application's deployable units (SYSTEM/APP/GROUP).", no_args_is_help=True)
_COLUMNS = [
    ("NAME", k("name")),
    ("ENV", k("environment")),
    ("CLUSTER", k("cluster")),
    ("VERSION", k("current_version")),
    ("LATEST", k("latest_version")),
]
_WIDE = [
    (
        "CLUSTERS",
        lambda g: ", ".join(f"{c['cluster']}:{c['instances']}" for c in g.get("clusters") or []) or "-",
    ),
    ("DNS NAME", k("dns_name")),
]
_STATUS_COLUMNS = [
    *_COLUMNS,
    ("STATE", lambda g: g["status"]["state"] + (" (stale)" if g["status"]["stale"] else "")),
    ("READY", lambda g: f"{g['status']['ready']}/{g['status']['wanted']}"),
    ("DRIFT", lambda g: ", ".join(d["field"] for d in g["status"]["drift"]) or "-"),
    ("OPERATION", lambda g: g["status"]["operation"]),
]


@groups.command("create")
def group_create(
    target: GroupArg,
    env: Annotated[str, typer.Option("--env", help="dev, test or prod")],
    cluster: Annotated[str, typer.Option(help="A registered cluster")] = "local",
    output: OutputOpt = Format.table,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    system, app, name = split(target, 3, "SYSTEM/APP/GROUP")
    body = {"name": name, "environment": env, "cluster": cluster}
    with client(server, token) as api:
        show(api.post(f"/api/v1/systems/{segment(system)}/apps/{segment(app)}/groups", body), output, _COLUMNS)


@groups.command("list")
def group_list(
    target: AppArg, output: OutputOpt = Format.table, server: ServerOpt = None, token: TokenOpt = None
) -> None:
    system, app = split(target, 2, "SYSTEM/APP")
    with client(server, token) as api:
        show(api.get(f"/api/v1/systems/{segment(system)}/apps/{segment(app)}/groups"), output, _COLUMNS, _WIDE)


@groups.command("show")
def group_show(
    target: GroupArg, output: OutputOpt = Format.table, server: ServerOpt = None, token: TokenOpt = None
) -> None:
    """The group with its live state: ready instances, drift, the operation under way."""
    path = group_path(target)
    with client(server, token) as api:
        show(api.get(path), output, _STATUS_COLUMNS, _WIDE)


_ANSWER_COLUMNS = [("IP", k("ip")), ("CLUSTER", k("cluster")), ("IDC", lambda a: a["idc"] or "-")]


@groups.command("dns")
def group_dns(
    target: GroupArg, output: OutputOpt = Format.table, server: ServerOpt = None, token: TokenOpt = None
) -> None:
    """The group's global name and the addresses Dockyard's DNS answers it with now (ready instances)."""
    path = group_path(target)
    with client(server, token) as api:
        body = api.get(f"{path}/dns")
    if output.structured:
        show(body, output)
        return
    print(body["name"])
    if body["answers"]:
        show(body["answers"], output, _ANSWER_COLUMNS)
    else:
        print("no ready instance: the name does not resolve")


@groups.command("delete")
def group_delete(target: GroupArg, no_wait: NoWait = False, server: ServerOpt = None, token: TokenOpt = None) -> None:
    """Remove the group's objects from its cluster, then the group."""
    path = group_path(target)
    with client(server, token) as api:
        follow(api, target, api.delete(path), no_wait)


_INSTANCE_COLUMNS = [
    ("NAME", k("name")),
    ("STATUS", k("phase")),
    ("READY", k("ready")),
    ("RESTARTS", k("restarts")),
    ("POD IP", k("pod_ip")),
    ("HOST IP", k("host_ip")),
    ("NODE", k("node")),
    ("VERSION", k("version")),
    ("AGE", lambda i: age(i["age_seconds"])),
    ("REASON", lambda i: i["reason"] or ("terminating" if i["deleting"] else "")),
]
_INSTANCE_WIDE = [
    ("CONTAINER", lambda i: (i.get("container_id") or "-").split("://")[-1][:13]),  # as `crictl ps` shows it
    ("CLUSTER", lambda i: i.get("cluster") or "-"),
    ("CREATED", k("created_at")),
]


def instances(
    target: GroupArg, output: OutputOpt = Format.table, server: ServerOpt = None, token: TokenOpt = None
) -> None:
    """The group's instances, live from the cluster's watch cache."""
    path = group_path(target)
    with client(server, token) as api:
        body = api.get(f"{path}/instances")
    if output.structured:
        show(body, output)
        return
    if body["stale"]:
        import sys

        print("the cluster is unreachable: showing the last known state", file=sys.stderr)
    show(body["items"], output, _INSTANCE_COLUMNS, _INSTANCE_WIDE)


def versions(
    target: GroupArg, output: OutputOpt = Format.table, server: ServerOpt = None, token: TokenOpt = None
) -> None:
    """The group's versions, oldest first; * marks the running one."""
    path = group_path(target)
    with client(server, token) as api:
        group = api.get(path)
        items = api.get(f"{path}/versions")
    current = group["current_version"]
    show(
        items,
        output,
        [
            ("", lambda v: "*" if v["number"] == current else ""),
            ("VERSION", k("number")),
            ("IMAGE", lambda v: v["spec"]["image"]),
            ("FLAVOR", lambda v: v["spec"]["flavor"]),
            ("INSTANCES", lambda v: v["spec"]["instances"]),
            ("BY", k("created_by")),
            ("CREATED", k("created_at")),
            ("REASON", k("reason")),
        ],
        [
            (
                "ENV",
                lambda v: (
                    ",".join(sorted([*(v["spec"].get("env") or {}), *(v["spec"].get("secret_env") or {})])) or "-"
                ),
            )
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
    path = group_path(target)
    with client(server, token) as api:
        body = api.get(f"{path}/diff", old=old, new=new)
    if output.structured:
        show(body, output)
        return
    if not body["changes"]:
        print(f"versions {old} and {new} are the same")
        return
    show(body["changes"], output, [("FIELD", k("field")), (f"V{old}", k("expected")), (f"V{new}", k("live"))])
