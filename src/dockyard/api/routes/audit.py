"""/api/v1/audit: the audit trail, read and verified. Reading it is not itself recorded unless denied."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from dockyard.api.deps import Caller, PlatformDep
from dockyard.api.errors import ERRORS
from dockyard.api.schemas.audit import AuditEntryOut, AuditPageOut, AuditVerifyOut
from dockyard.domain.audit import AuditQuery
from dockyard.services import audit as svc

router = APIRouter(prefix="/api/v1/audit", tags=["audit"], responses=ERRORS)


@router.get("")
async def list_audit(
    platform: PlatformDep,
    caller: Caller,
    system: Annotated[str | None, Query(max_length=63, description="entries of this system")] = None,
    user: Annotated[str | None, Query(max_length=100, description="entries of this actor")] = None,
    action: Annotated[str | None, Query(max_length=200, description="a route's name, e.g. create_group")] = None,
    outcome: Literal["allowed", "denied", "error"] | None = None,
    since: Annotated[dt.datetime | None, Query(description="ISO time, inclusive (UTC if no offset)")] = None,
    until: Annotated[dt.datetime | None, Query(description="ISO time, exclusive (UTC if no offset)")] = None,
    limit: Annotated[int, Query(ge=1, le=svc.MAX_LIMIT)] = 100,
    cursor: Annotated[int | None, Query(ge=1, description="next_cursor of the previous page")] = None,
) -> AuditPageOut:
    """Audit entries, newest first. Platform admins see all; a system's owners see that system's
    entries when they filter by it (404 for a system they cannot see); anyone else gets 403."""
    query = AuditQuery(
        system=system,
        actor=user,
        action=action,
        outcome=outcome,
        since=since,
        until=until,
        before=cursor,
        limit=limit,
    )
    found = await svc.find(platform, caller, query)
    return AuditPageOut(
        items=[AuditEntryOut.of(e) for e in found],
        next_cursor=found[-1].seq if len(found) == limit and found[-1].seq > 1 else None,
    )


@router.get("/verify")
async def verify_audit(platform: PlatformDep, caller: Caller) -> AuditVerifyOut:
    """Check the hash chain (platform admins): ``first_bad`` names the first entry that was edited,
    deleted, inserted or moved."""
    return AuditVerifyOut.of(await svc.verify(platform, caller))
