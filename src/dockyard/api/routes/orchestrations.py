"""/api/v1/orchestrations and …/apps/{app}/orchestrate: orchestration templates, an application of
several groups made at once from component templates, all or nothing (docs/templates.md)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from dockyard.api.deps import Caller, PlatformDep
from dockyard.api.errors import ERRORS
from dockyard.api.schemas.common import In
from dockyard.domain.model import AppPath
from dockyard.services import orchestrations as svc

router = APIRouter(prefix="/api/v1", responses=ERRORS)


class OrchestrateIn(In):
    orchestration: str = Field(description="an orchestration template's name")
    repository: str = Field(default="", description="the application's image repository, when it is made")
    parameters: dict[str, Any] = Field(default_factory=dict)


class MadeGroupOut(BaseModel):
    group: str
    version: int
    operation: str = Field(description="the pending deploy of the version")


class OrchestratedOut(BaseModel):
    application: str
    created_application: bool
    groups: list[MadeGroupOut]


@router.get("/orchestrations", tags=["templates"])
async def list_orchestrations(caller: Caller) -> list[dict[str, Any]]:
    """The orchestration templates: parameters and, per group, its component template and parameters."""
    return [o.to_data() for o in svc.list_orchestrations(caller)]


@router.post("/systems/{system}/apps/{app}/orchestrate", tags=["templates"], status_code=status.HTTP_201_CREATED)
async def orchestrate(
    system: str, app: str, body: OrchestrateIn, platform: PlatformDep, caller: Caller
) -> OrchestratedOut:
    """Make the application (when new), every group of the orchestration template with its version 1
    and a pending deploy of it — all or nothing (a name taken: 409 and nothing made). The system's owners."""
    made = await svc.orchestrate(
        platform,
        caller,
        app=AppPath(system, app),
        name=body.orchestration,
        repository=body.repository,
        parameters=body.parameters,
    )
    return OrchestratedOut(
        application=str(made.application),
        created_application=made.created_application,
        groups=[MadeGroupOut(group=str(g), version=v, operation=op.id) for g, v, op in made.groups],
    )
