"""/api/v1/systems/{system}/locations: the locations a system's production groups may use (grants),
and /api/v1/systems/{system}/apps/{app}/location: an application's default location."""

from __future__ import annotations

from fastapi import APIRouter, status

from dockyard.api.deps import Caller, PlatformDep, RowId
from dockyard.api.errors import ERRORS
from dockyard.api.schemas.applications import ApplicationOut
from dockyard.api.schemas.locations import GrantIn, GrantOut, LocationIn
from dockyard.domain.model import AppPath
from dockyard.services import applications, locations

router = APIRouter(prefix="/api/v1/systems/{system}", responses=ERRORS, tags=["locations"])


@router.get("/locations")
async def list_grants(system: str, platform: PlatformDep, caller: Caller) -> list[GrantOut]:
    """The system's location grants, requested, approved and revoked."""
    return [GrantOut.of(g) for g in await locations.grants(platform, caller, system)]


@router.post("/locations", status_code=status.HTTP_201_CREATED)
async def request_grant(system: str, body: GrantIn, platform: PlatformDep, caller: Caller) -> GrantOut:
    """Ask for a location for the system's production groups (its owner); a platform admin decides."""
    return GrantOut.of(await locations.request(platform, caller, system, body.location, reason=body.reason))


@router.post("/locations/{grant_id}/approve")
async def approve_grant(system: str, grant_id: RowId, platform: PlatformDep, caller: Caller) -> GrantOut:
    """Platform admins only: the system's production groups may run there from now on."""
    return GrantOut.of(await locations.decide(platform, caller, system, grant_id, "approve"))


@router.post("/locations/{grant_id}/revoke")
async def revoke_grant(system: str, grant_id: RowId, platform: PlatformDep, caller: Caller) -> GrantOut:
    """Platform admins only: no new deploy of a production group there (what runs keeps running)."""
    return GrantOut.of(await locations.decide(platform, caller, system, grant_id, "revoke"))


@router.put("/apps/{app}/location")
async def set_app_location(
    system: str, app: str, body: LocationIn, platform: PlatformDep, caller: Caller
) -> ApplicationOut:
    """The application's default location (null: each group's home cluster), from its groups' next deploy."""
    return ApplicationOut.of(await applications.set_location(platform, caller, AppPath(system, app), body.location))
