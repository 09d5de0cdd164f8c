"""/api/v1/systems/{system}/members and …/apps/{app}/members: who holds which role."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from dockyard.api.deps import Caller, PlatformDep
from dockyard.api.errors import ERRORS
from dockyard.api.schemas.members import MemberOut, RoleIn
from dockyard.services import members

router = APIRouter(prefix="/api/v1/systems/{system}", responses=ERRORS, tags=["members"])


@router.get("/members")
async def list_members(system: str, platform: PlatformDep, caller: Caller) -> list[MemberOut]:
    """Role bindings in the system and its applications (those the caller may see)."""
    return [MemberOut.of(b) for b in await members.list_members(platform, caller, system)]


@router.put("/members/{user}")
async def grant_system_role(
    system: str, user: str, body: RoleIn, platform: PlatformDep, caller: Caller, response: Response
) -> MemberOut:
    """Give ``user`` a role in the whole system (its owners); 201 when new, 200 when it replaced one."""
    if await members.grant(platform, caller, system=system, app=None, user=user, role=body.role):
        response.status_code = status.HTTP_201_CREATED
    return MemberOut(user=user, system=system, app=None, role=body.role, granted_by=caller.name)


@router.delete("/members/{user}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_system_role(system: str, user: str, platform: PlatformDep, caller: Caller) -> None:
    await members.revoke(platform, caller, system=system, app=None, user=user)


@router.put("/apps/{app}/members/{user}")
async def grant_app_role(
    system: str, app: str, user: str, body: RoleIn, platform: PlatformDep, caller: Caller, response: Response
) -> MemberOut:
    """Give ``user`` a role in one application (owners of it or of the system)."""
    if await members.grant(platform, caller, system=system, app=app, user=user, role=body.role):
        response.status_code = status.HTTP_201_CREATED
    return MemberOut(user=user, system=system, app=app, role=body.role, granted_by=caller.name)


@router.delete("/apps/{app}/members/{user}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_app_role(system: str, app: str, user: str, platform: PlatformDep, caller: Caller) -> None:
    await members.revoke(platform, caller, system=system, app=app, user=user)
