"""`dockyard location ...`: the locations a system's production groups may use (request, approve,
revoke, list), and an application's default location."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from dockyard.cli.client import segment
from dockyard.cli.common import ServerOpt, TokenOpt
from dockyard.cli.common import client as _client
from dockyard.cli.common import k as _k
from dockyard.cli.errors import fail
from dockyard.cli.output import Format, OutputOpt, show
from dockyard.cli.targets import AppArg, split

app = typer.Typer(
    help="Locations (clusters by idc, provider, region or name): grants for production, apps' defaults.",
    no_args_is_help=True,
)
_COLUMNS = [
    ("ID", _k("id")),
    ("LOCATION", lambda g: ",".join(f"{k}={v}" for k, v in g["location"].items())),
    ("STATUS", _k("status")),
    ("REQUESTED BY", _k("requested_by")),
    ("DECIDED BY", _k("decided_by")),
    ("REASON", _k("reason")),
]
IdcOpt = Annotated[str | None, typer.Option("--idc", help="Clusters labelled idc=VALUE")]
ProviderOpt = Annotated[str | None, typer.Option("--provider", help="Clusters labelled provider=VALUE (idc, cloud)")]
RegionOpt = Annotated[str | None, typer.Option("--region", help="Clusters labelled region=VALUE")]
ClusterOpt = Annotated[list[str] | None, typer.Option("--cluster", help="A cluster by name (repeatable)")]


def location_of(
    idc: str | None, provider: str | None, region: str | None, clusters: list[str] | None
) -> dict[str, Any]:
    found: dict[str, Any] = {k: v for k, v in (("idc", idc), ("provider", provider), ("region", region)) if v}
    if clusters:
        found["clusters"] = clusters
    return found


@app.command("request")
def request(
    system: str,
    idc: IdcOpt = None,
    provider: ProviderOpt = None,
    region: RegionOpt = None,
    cluster: ClusterOpt = None,
    reason: str = "",
    output: OutputOpt = Format.table,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Ask a platform admin for a location for SYSTEM's production groups."""
    where = location_of(idc, provider, region, cluster)
    if not where:
        fail("give the location: --idc, --provider, --region and/or --cluster")
    with _client(server, token) as client:
        body = {"location": where, "reason": reason}
        show(client.post(f"/api/v1/systems/{segment(system)}/locations", body), output, _COLUMNS)


@app.command("list")
def list_grants(
    system: str, output: OutputOpt = Format.table, server: ServerOpt = None, token: TokenOpt = None
) -> None:
    """SYSTEM's location grants: requested, approved, revoked."""
    with _client(server, token) as client:
        show(client.get(f"/api/v1/systems/{segment(system)}/locations"), output, _COLUMNS)


def _decide(decision: str, system: str, grant: int, output: Format, server: str | None, token: str | None) -> None:
    with _client(server, token) as client:
        path = f"/api/v1/systems/{segment(system)}/locations/{grant}/{decision}"
        show(client.post(path, {}), output, _COLUMNS)


@app.command("approve")
def approve(
    system: str, grant: int, output: OutputOpt = Format.table, server: ServerOpt = None, token: TokenOpt = None
) -> None:
    """Approve grant GRANT of SYSTEM (platform admins)."""
    _decide("approve", system, grant, output, server, token)


@app.command("revoke")
def revoke(
    system: str, grant: int, output: OutputOpt = Format.table, server: ServerOpt = None, token: TokenOpt = None
) -> None:
    """Revoke grant GRANT of SYSTEM (platform admins): no new deploy of its production groups there."""
    _decide("revoke", system, grant, output, server, token)


@app.command("default")
def default(
    target: AppArg,
    idc: IdcOpt = None,
    provider: ProviderOpt = None,
    region: RegionOpt = None,
    cluster: ClusterOpt = None,
    output: OutputOpt = Format.table,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Set an application's default location (none given: clear it, each group on its home cluster)."""
    system, name = split(target, 2, "SYSTEM/APP")
    where = location_of(idc, provider, region, cluster) or None
    with _client(server, token) as client:
        answer = client.put(f"/api/v1/systems/{segment(system)}/apps/{segment(name)}/location", {"location": where})
        show(answer, output, [("APP", _k("name")), ("LOCATION", _k("location"))])
