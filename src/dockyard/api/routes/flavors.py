"""/api/v1/flavors: the platform's flavor catalog (read by every user, changed by platform admins)."""

from __future__ import annotations

from fastapi import APIRouter, status

from dockyard.api.deps import Caller, PlatformDep
from dockyard.api.errors import ERRORS
from dockyard.api.schemas.flavors import FlavorIn, FlavorOut
from dockyard.services import flavors as svc

router = APIRouter(prefix="/api/v1", responses=ERRORS)


@router.get("/flavors", tags=["flavors"])
async def list_flavors(platform: PlatformDep, caller: Caller) -> list[FlavorOut]:
    """The catalog, smallest first."""
    return [FlavorOut.of(f) for f in await svc.list_flavors(platform, caller)]


@router.get("/flavors/{flavor}", tags=["flavors"])
async def get_flavor(flavor: str, platform: PlatformDep, caller: Caller) -> FlavorOut:
    return FlavorOut.of(await svc.get_flavor(platform, caller, flavor))


@router.post("/flavors", tags=["flavors"], status_code=status.HTTP_201_CREATED)
async def create_flavor(body: FlavorIn, platform: PlatformDep, caller: Caller) -> FlavorOut:
    """Add a flavor (platform admins); usable by the next deploy. 409 when the name is taken."""
    return FlavorOut.of(await svc.create_flavor(platform, caller, body.raw()))


@router.put("/flavors/{flavor}", tags=["flavors"])
async def update_flavor(flavor: str, body: FlavorIn, platform: PlatformDep, caller: Caller) -> FlavorOut:
    """Replace a flavor (platform admins). Taking CPU, memory, an extended resource, a cluster or a
    pool away from a flavor groups use is refused (409, ``details.groups`` names them); versions
    already made keep their size."""
    return FlavorOut.of(await svc.update_flavor(platform, caller, flavor, body.raw() | {"name": body.name or flavor}))


@router.delete("/flavors/{flavor}", tags=["flavors"], status_code=status.HTTP_204_NO_CONTENT)
async def delete_flavor(flavor: str, platform: PlatformDep, caller: Caller) -> None:
    """Delete a flavor no group uses (platform admins); 409 naming the groups otherwise."""
    await svc.delete_flavor(platform, caller, flavor)
