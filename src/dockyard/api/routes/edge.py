"""/api/v1/systems/{s}/apps/{a}/groups/{g}/edge: the group's entry on the edge load balancer.

``PUT`` gives the group an entry (a group write: developer or owner), ``DELETE`` takes it away
(idempotent), ``GET`` shows its global name, entry and the instances requests go to now.
"""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from dockyard.api.deps import Caller, PlatformDep
from dockyard.api.errors import ERRORS
from dockyard.api.schemas.edge import EdgeIn, EdgeOut
from dockyard.domain.model import GroupPath
from dockyard.services import edge

router = APIRouter(prefix="/api/v1/systems/{system}/apps/{app}/groups/{group}/edge", responses=ERRORS)


@router.get("", tags=["edge"])
async def get_edge(system: str, app: str, group: str, platform: PlatformDep, caller: Caller) -> EdgeOut:
    return EdgeOut.of(await edge.edge_status(platform, caller, GroupPath(system, app, group)))


@router.put("", tags=["edge"])
async def put_edge(system: str, app: str, group: str, body: EdgeIn, platform: PlatformDep, caller: Caller) -> EdgeOut:
    return EdgeOut.of(await edge.set_edge(platform, caller, GroupPath(system, app, group), port=body.port))


@router.delete("", tags=["edge"], status_code=status.HTTP_204_NO_CONTENT)
async def delete_edge(system: str, app: str, group: str, platform: PlatformDep, caller: Caller) -> Response:
    await edge.remove_edge(platform, caller, GroupPath(system, app, group))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
