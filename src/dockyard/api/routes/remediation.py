"""/api/v1/remediation: the policy of cordoning and tainting nodes with a kernel or hardware
problem, a preview of what it would do now, and each node's history. Platform admins only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from dockyard.api.deps import Caller, PlatformDep
from dockyard.api.errors import ERRORS
from dockyard.api.schemas.inspections import PlanOut, PolicyIn, PolicyOut, RecordOut
from dockyard.services import remediation

router = APIRouter(prefix="/api/v1/remediation", responses=ERRORS, tags=["inspections"])


@router.get("")
async def get_policy(platform: PlatformDep, caller: Caller) -> PolicyOut:
    """The remediation policy: mode, the pause switch, the pool share, the quiet period."""
    return PolicyOut.of(await remediation.policy(platform, caller))


@router.put("")
async def put_policy(body: PolicyIn, platform: PlatformDep, caller: Caller) -> PolicyOut:
    """Replace the policy (a pause stops the applying server at its next round, within seconds)."""
    made = await remediation.set_policy(
        platform,
        caller,
        mode=body.mode,
        paused=body.paused,
        max_share=body.max_share,
        quiet_seconds=body.quiet_seconds,
    )
    return PolicyOut.of(made)


@router.get("/plan")
async def preview(platform: PlatformDep, caller: Caller) -> list[PlanOut]:
    """What a round would do now on each cluster (dry run: nothing is changed)."""
    return [PlanOut.of(cluster, p) for cluster, p in sorted((await remediation.preview(platform, caller)).items())]


@router.get("/history")
async def history(
    platform: PlatformDep,
    caller: Caller,
    cluster: str | None = None,
    node: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[RecordOut]:
    """What remediation did, would have done (dry run) or held back, newest first."""
    found = await remediation.history(platform, caller, cluster=cluster, node=node, limit=limit)
    return [RecordOut.of(r) for r in found]
