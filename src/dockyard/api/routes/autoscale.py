"""/api/v1/systems/{s}/apps/{a}/groups/{g}/autoscale: a group's autoscale policy and what it decides.

The policy is part of the version: PUT and DELETE deploy a new version with it set or removed (202 with
the operation, 409 while another one runs); GET shows it with the signals against their targets, the
count it would choose now, its split over the clusters and the autoscaler's last decisions.
"""

from __future__ import annotations

from fastapi import APIRouter, status

from dockyard.api.deps import Caller, PlatformDep
from dockyard.api.errors import ERRORS
from dockyard.api.schemas.autoscale import AutoscaleIn, AutoscaleOut
from dockyard.api.schemas.operations import OperationOut
from dockyard.domain.model import GroupPath
from dockyard.services import autoscale

router = APIRouter(prefix="/api/v1/systems/{system}/apps/{app}/groups", responses=ERRORS)


@router.get("/{group}/autoscale", tags=["autoscale"])
async def get_autoscale(system: str, app: str, group: str, platform: PlatformDep, caller: Caller) -> AutoscaleOut:
    """The policy of the running version, its signals against their targets and its last decisions."""
    return AutoscaleOut.of(await autoscale.status(platform, caller, GroupPath(system, app, group)))


@router.put("/{group}/autoscale", tags=["autoscale"], status_code=status.HTTP_202_ACCEPTED)
async def put_autoscale(
    system: str, app: str, group: str, body: AutoscaleIn, platform: PlatformDep, caller: Caller
) -> OperationOut:
    """Deploy a new version with this policy (422 naming ``autoscale.<field>`` when it is wrong)."""
    op = await autoscale.set_policy(
        platform, caller, group=GroupPath(system, app, group), policy=body.policy, reason=body.reason
    )
    return OperationOut.of(op)


@router.delete("/{group}/autoscale", tags=["autoscale"], status_code=status.HTTP_202_ACCEPTED)
async def delete_autoscale(system: str, app: str, group: str, platform: PlatformDep, caller: Caller) -> OperationOut:
    """Deploy a new version without a policy, at the count that runs now (409 when there is none)."""
    return OperationOut.of(await autoscale.turn_off(platform, caller, group=GroupPath(system, app, group)))
