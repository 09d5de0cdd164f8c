"""GET /api/v1/systems/{system}/groups: every group of the system with its live state, version and
instances (the system page). Authorized like reading the system; each group like reading it."""

from __future__ import annotations

from fastapi import APIRouter

from dockyard.api.deps import Caller, PlatformDep
from dockyard.api.errors import ERRORS
from dockyard.api.routes.groups import group_out
from dockyard.api.schemas.groups import GroupOut
from dockyard.services.system_groups import visible_groups

router = APIRouter(prefix="/api/v1/systems/{system}", responses=ERRORS)


@router.get("/groups", tags=["groups"])
async def list_system_groups(system: str, platform: PlatformDep, caller: Caller) -> list[GroupOut]:
    """The system's groups the caller can see, by application then name, each with its status."""
    return [await group_out(platform, caller, path) for path in await visible_groups(platform, caller, system)]
