"""/api/v1/operations/{id}: follow an operation started by an action."""

from __future__ import annotations

from fastapi import APIRouter

from dockyard.api.deps import Caller, PlatformDep
from dockyard.api.errors import ERRORS
from dockyard.api.schemas.operations import OperationOut
from dockyard.services import applications as svc

router = APIRouter(prefix="/api/v1/operations", responses=ERRORS)


@router.get("/{operation_id}", tags=["operations"])
async def get_operation(operation_id: str, platform: PlatformDep, caller: Caller) -> OperationOut:
    """404 for an operation in a system the caller cannot see."""
    return OperationOut.of(await svc.get_operation(platform, caller, operation_id))
