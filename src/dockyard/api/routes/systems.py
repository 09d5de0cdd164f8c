"""/api/v1/systems/{system} and /api/v1/systems/{system}/apps/{app}."""

from __future__ import annotations

from fastapi import APIRouter, status

from dockyard.api.deps import Caller, PlatformDep
from dockyard.api.errors import ERRORS
from dockyard.api.schemas.applications import ApplicationIn, ApplicationOut
from dockyard.api.schemas.operations import OperationOut
from dockyard.api.schemas.systems import SystemIn, SystemOut
from dockyard.domain.model import AppPath
from dockyard.services import applications as svc

router = APIRouter(prefix="/api/v1/systems", responses=ERRORS)


@router.post("", tags=["systems"], status_code=status.HTTP_201_CREATED)
async def create_system(body: SystemIn, platform: PlatformDep, caller: Caller) -> SystemOut:
    made = await svc.create_system(
        platform,
        caller,
        name=body.name,
        description=body.description,
        cpu_millis=body.quota.cpu_millis,
        memory_mib=body.quota.memory_mib,
    )
    return SystemOut.of(made)


@router.get("", tags=["systems"])
async def list_systems(platform: PlatformDep, caller: Caller) -> list[SystemOut]:
    """The systems the caller may see."""
    return [SystemOut.of(s) for s in await svc.list_systems(platform, caller)]


@router.get("/{system}", tags=["systems"])
async def get_system(system: str, platform: PlatformDep, caller: Caller) -> SystemOut:
    return SystemOut.of(await svc.get_system(platform, caller, system))


@router.delete("/{system}", tags=["systems"], status_code=status.HTTP_204_NO_CONTENT)
async def delete_system(system: str, platform: PlatformDep, caller: Caller) -> None:
    """409 while the system has applications."""
    await svc.delete_system(platform, caller, system)


@router.get("/{system}/operations", tags=["operations"])
async def system_history(system: str, platform: PlatformDep, caller: Caller, limit: int = 100) -> list[OperationOut]:
    """Operations on the system and everything in it, newest first."""
    return [OperationOut.of(o) for o in await svc.history(platform, caller, system, limit=limit)]


@router.post("/{system}/apps", tags=["applications"], status_code=status.HTTP_201_CREATED)
async def create_application(system: str, body: ApplicationIn, platform: PlatformDep, caller: Caller) -> ApplicationOut:
    made = await svc.create_application(
        platform,
        caller,
        system=system,
        name=body.name,
        repository=body.repository,
        business_id=body.business_id,
        owners=tuple(body.owners),
        location=body.location,
    )
    return ApplicationOut.of(made)


@router.get("/{system}/apps", tags=["applications"])
async def list_applications(system: str, platform: PlatformDep, caller: Caller) -> list[ApplicationOut]:
    return [ApplicationOut.of(a) for a in await svc.list_applications(platform, caller, system)]


@router.get("/{system}/apps/{app}", tags=["applications"])
async def get_application(system: str, app: str, platform: PlatformDep, caller: Caller) -> ApplicationOut:
    return ApplicationOut.of(await svc.get_application(platform, caller, AppPath(system, app)))


@router.delete("/{system}/apps/{app}", tags=["applications"], status_code=status.HTTP_204_NO_CONTENT)
async def delete_application(system: str, app: str, platform: PlatformDep, caller: Caller) -> None:
    """409 while the application has groups."""
    await svc.delete_application(platform, caller, AppPath(system, app))


@router.get("/{system}/apps/{app}/operations", tags=["operations"])
async def application_history(
    system: str, app: str, platform: PlatformDep, caller: Caller, limit: int = 100
) -> list[OperationOut]:
    return [OperationOut.of(o) for o in await svc.history(platform, caller, AppPath(system, app), limit=limit)]
