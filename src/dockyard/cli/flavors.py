"""`dockyard flavor ...`: the platform's flavor catalog (list, show; create, update, delete by
platform admins)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from dockyard.cli.client import segment
from dockyard.cli.common import ServerOpt, TokenOpt, client, k
from dockyard.cli.errors import fail
from dockyard.cli.output import Format, OutputOpt, show
from dockyard.cli.targets import pairs

flavors = typer.Typer(help="Flavors: the catalog of instance sizes.", no_args_is_help=True)
_COLUMNS = [
    ("NAME", k("label")),
    ("CPU (m)", k("cpu_millis")),
    ("MEMORY (Mi)", k("memory_mib")),
    ("EXTENDED", lambda f: ", ".join(f"{n}={c}" for n, c in f["extended"].items()) or "-"),
    ("CLUSTERS", lambda f: ", ".join(f["clusters"]) or "all"),
    ("POOLS", lambda f: ", ".join(f["pools"]) or "all"),
]
_WIDE = [("DESCRIPTION", k("description"))]

Cpu = Annotated[int | None, typer.Option("--cpu", help="CPU per instance, in millicores")]
Memory = Annotated[int | None, typer.Option("--memory", help="Memory per instance, in MiB")]
Extended = Annotated[
    list[str] | None, typer.Option("--extended", help="RESOURCE=COUNT, e.g. nvidia.com/gpu=1 (repeatable)")
]
Clusters = Annotated[list[str] | None, typer.Option("--cluster", help="A cluster offering it (repeatable; none: all)")]
Pools = Annotated[list[str] | None, typer.Option("--pool", help="A node pool offering it (repeatable; none: all)")]
Description = Annotated[str | None, typer.Option(help="What it is for")]


@flavors.command("list")
def flavor_list(output: OutputOpt = Format.table, server: ServerOpt = None, token: TokenOpt = None) -> None:
    with client(server, token) as api:
        show(api.get("/api/v1/flavors"), output, _COLUMNS, _WIDE)


@flavors.command("show")
def flavor_show(name: str, output: OutputOpt = Format.table, server: ServerOpt = None, token: TokenOpt = None) -> None:
    with client(server, token) as api:
        show(api.get(f"/api/v1/flavors/{segment(name)}"), output, [*_COLUMNS, *_WIDE])


@flavors.command("create")
def flavor_create(
    name: str,
    cpu: Cpu = None,
    memory: Memory = None,
    extended: Extended = None,
    cluster: Clusters = None,
    pool: Pools = None,
    description: Description = None,
    output: OutputOpt = Format.table,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Add a flavor (platform admins); usable by the next deploy."""
    if cpu is None or memory is None:
        fail("give --cpu MILLICORES and --memory MIB")
    body = _changed({"name": name}, cpu, memory, extended, cluster, pool, description)
    with client(server, token) as api:
        show(api.post("/api/v1/flavors", body), output, [*_COLUMNS, *_WIDE])


@flavors.command("update")
def flavor_update(
    name: str,
    cpu: Cpu = None,
    memory: Memory = None,
    extended: Extended = None,
    cluster: Clusters = None,
    pool: Pools = None,
    description: Description = None,
    output: OutputOpt = Format.table,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Change a flavor (platform admins); what is not given stays. Taking anything away from a flavor
    groups use is refused, naming them; versions already made keep their size."""
    with client(server, token) as api:
        current = api.get(f"/api/v1/flavors/{segment(name)}")
        base = {key: current[key] for key in ("name", "cpu_millis", "memory_mib", "extended", "clusters", "pools")}
        body = _changed(
            base | {"description": current["description"]}, cpu, memory, extended, cluster, pool, description
        )
        show(api.put(f"/api/v1/flavors/{segment(name)}", body), output, [*_COLUMNS, *_WIDE])


@flavors.command("delete")
def flavor_delete(name: str, server: ServerOpt = None, token: TokenOpt = None) -> None:
    """Delete a flavor no group uses (platform admins)."""
    with client(server, token) as api:
        api.delete(f"/api/v1/flavors/{segment(name)}")
    print(f"flavor {name} deleted")


def _changed(
    body: dict[str, Any],
    cpu: int | None,
    memory: int | None,
    extended: list[str] | None,
    clusters: list[str] | None,
    pools: list[str] | None,
    description: str | None,
) -> dict[str, Any]:
    if cpu is not None:
        body["cpu_millis"] = cpu
    if memory is not None:
        body["memory_mib"] = memory
    if extended is not None:
        counts = pairs(extended, "--extended")
        if not all(v.isdigit() for v in counts.values()):
            fail("--extended takes RESOURCE=COUNT with a whole number, e.g. nvidia.com/gpu=1")
        body["extended"] = {name: int(v) for name, v in counts.items()}
    if clusters is not None:
        body["clusters"] = clusters
    if pools is not None:
        body["pools"] = pools
    if description is not None:
        body["description"] = description
    return body
