"""CLI commands on placement: cluster capacity, the placement preview."""

from __future__ import annotations

from typing import Any

import typer

from dockyard.cli.client import Client, segment
from dockyard.cli.common import ServerOpt, TokenOpt
from dockyard.cli.common import client as _client
from dockyard.cli.errors import fail
from dockyard.cli.output import Format, OutputOpt, show
from dockyard.cli.targets import split


def _amount(a: dict[str, Any]) -> str:
    return f"{a['cpu_millis'] / 1000:g} CPU, {a['memory_mib']} MiB"


def cluster_status(
    name: str, output: OutputOpt = Format.table, server: ServerOpt = None, token: TokenOpt = None
) -> None:
    """Nodes ready / not ready, pods, allocatable against requested CPU and memory per pool and CPU model."""
    with _client(server, token) as client:
        status = client.get(f"/api/v1/clusters/{segment(name)}/status")
    if output.structured:
        show(status, output)
        return
    nodes = status["nodes"]
    print(
        f"cluster {status['cluster']}: {'connected' if status['connected'] else 'NOT connected (last known)'}; "
        f"nodes {nodes['ready']} ready, {nodes['not_ready']} not ready; pods {status['pods']} "
        f"({status['pending']} pending); requested {_amount(status['requested'])} "
        f"of {_amount(status['allocatable'])}"
    )
    columns = [
        ("POOL", lambda p: p["pool"] or "-"),
        ("CPU MODEL", lambda p: p["cpu_model"] or "-"),
        ("NODES", lambda p: f"{p['ready']}/{p['nodes']}"),
        ("CPU (m) REQ/ALLOC", lambda p: f"{p['requested']['cpu_millis']}/{p['allocatable']['cpu_millis']}"),
        ("MEMORY (Mi) REQ/ALLOC", lambda p: f"{p['requested']['memory_mib']}/{p['allocatable']['memory_mib']}"),
    ]
    show(status["pools"], Format.table, columns)


def show_preview(client: Client, group_path: str, body: dict[str, Any], output: Format) -> None:
    """Print where a deploy of ``body`` (``version``, ``spec`` or ``changes``) would land; exit 1 if
    some instances would not fit."""
    found = client.post(f"{group_path}/preview", body)
    if output.structured:
        show(found, output)
    else:
        for c in found["clusters"]:
            stale = "" if c["connected"] else " (caches not synced: not to be trusted)"
            print(f"cluster {c['cluster']}: {c['fits']} of {c['wanted']} instances fit{stale}")
            if c["preempted"]:
                print(f"  preempting {c['preempted']} lower-priority pods")
            if c["message"]:
                print(f"  {c['pending']} would stay Pending: {c['message']}")
    if found["pending"]:
        fail(f"{found['pending']} instance(s) would not fit")


pools = typer.Typer(help="Node pools dedicated to one application (platform admins).", no_args_is_help=True)
_DEDICATION_COLUMNS = [
    ("CLUSTER", lambda d: d["cluster"]),
    ("POOL", lambda d: d["pool"]),
    ("APPLICATION", lambda d: f"{d['system']}/{d['app']}"),
    ("TAINT", lambda d: d["taint"]),
    ("BY", lambda d: d["by"]),
]


@pools.command("list")
def pool_list(cluster: str, output: OutputOpt = Format.table, server: ServerOpt = None, token: TokenOpt = None) -> None:
    """The cluster's dedicated pools."""
    with _client(server, token) as client:
        show(client.get(f"/api/v1/clusters/{segment(cluster)}/dedicated-pools"), output, _DEDICATION_COLUMNS)


@pools.command("dedicate")
def pool_dedicate(
    cluster: str,
    pool: str,
    application: str = typer.Argument(metavar="SYSTEM/APP"),
    output: OutputOpt = Format.table,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Dedicate POOL of CLUSTER to SYSTEM/APP: its nodes are labelled and tainted, only that application
    lands there (its groups take it on their next deploy)."""
    system, app = split(application, 2, "SYSTEM/APP")
    with _client(server, token) as client:
        made = client.put(
            f"/api/v1/clusters/{segment(cluster)}/dedicated-pools/{segment(pool)}", {"system": system, "app": app}
        )
    show(made, output, _DEDICATION_COLUMNS)


@pools.command("undedicate")
def pool_undedicate(cluster: str, pool: str, server: ServerOpt = None, token: TokenOpt = None) -> None:
    """Give POOL of CLUSTER back to every application: taints and labels removed."""
    with _client(server, token) as client:
        client.delete(f"/api/v1/clusters/{segment(cluster)}/dedicated-pools/{segment(pool)}")
    print(f"pool {pool} of cluster {cluster} is no longer dedicated")


def gc(
    apply: bool = typer.Option(False, "--apply", help="Delete what the report lists (asks first, unless --yes)"),
    yes: bool = typer.Option(False, "--yes", help="Do not ask before deleting"),
    output: OutputOpt = Format.table,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """What Dockyard made that nothing owns (workloads, Services, ConfigMaps, Secrets of deleted groups,
    namespaces of deleted systems, stale dedicated-node taints); --apply deletes them (platform admins)."""
    columns = [
        ("CLUSTER", lambda x: x["cluster"]),
        ("KIND", lambda x: x["kind"]),
        ("NAMESPACE", lambda x: x["namespace"] or "-"),
        ("NAME", lambda x: x["name"]),
        ("WHY", lambda x: x["reason"]),
    ]

    def rows(report: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{"cluster": c["cluster"], **item} for c in report for item in c["leftovers"]]

    with _client(server, token) as client:
        report = client.get("/api/v1/gc")
        for c in report:
            if not c["reachable"]:
                print(f"cluster {c['cluster']} could not be reached: {c['error']}")
        show(report if output.structured else rows(report), output, columns)
        if not apply or not rows(report):
            return
        if not yes and not typer.confirm(f"delete these {len(rows(report))} leftovers?"):
            fail("not confirmed: nothing deleted")
        done = client.post("/api/v1/gc", {"confirm": True})
    print(f"removed {len(rows(done))} leftovers")
    for c in done:
        if c["error"]:
            fail(f"cluster {c['cluster']}: {c['error']}")
