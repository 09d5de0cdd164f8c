"""GET /api/v1/systems/{s}/apps/{a}/groups/{g}/events: the group's live state as server-sent events.

Contract: authorized like ``GET …/groups/{g}`` (404 / 403 / 401 as a normal JSON answer before any
event); then one ``snapshot`` event at once and another whenever the snapshot changed, checked every
:data:`EVERY` seconds from the watch caches and the database (never the cluster's API), and a comment
line every :data:`KEEPALIVE` seconds so proxies keep the connection. A snapshot is the group with its
status, its instances, its last operations and its latest release. If the group disappears or the
caller loses the right to read it (the token is checked again and the roles re-read every
:data:`RECHECK` seconds, so a revoked role or token, or an expired access token, ends the stream), an
``error`` event ``{code, message}`` ends the stream. Streams end
after :data:`MAX_SECONDS` (clients reconnect); ``once=true`` sends one snapshot and ends.

Browsers' ``EventSource`` cannot send an ``Authorization`` header: the console reads the stream with
``fetch``, so no token ever goes into a URL.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from dockyard.api.deps import Caller, PlatformDep
from dockyard.api.errors import ERRORS
from dockyard.api.routes.groups import group_out
from dockyard.api.schemas.groups import GroupOut, InstanceOut, InstancesOut
from dockyard.api.schemas.operations import OperationOut
from dockyard.api.schemas.releases import ReleaseOut
from dockyard.api.settle import settled
from dockyard.domain.access import Principal
from dockyard.domain.errors import DomainError
from dockyard.domain.model import GroupPath
from dockyard.services import applications as svc
from dockyard.services import releases
from dockyard.services import status as live
from dockyard.services.identity import authenticate
from dockyard.services.platform import Platform

router = APIRouter(prefix="/api/v1/systems/{system}/apps/{app}/groups", responses=ERRORS)

EVERY = 0.5
KEEPALIVE = 15.0
MAX_SECONDS = 600.0
RECHECK = 5.0
OPERATIONS = 20
_NO_AGE = {"instances": {"items": {"__all__": {"age_seconds"}}}}


class GroupSnapshotOut(BaseModel):
    group: GroupOut
    instances: InstancesOut
    operations: list[OperationOut]
    release: ReleaseOut | None


async def snapshot(platform: Platform, caller: Principal, group: GroupPath) -> GroupSnapshotOut:
    """The group's state now; raises ``NotFound``/``Hidden``/``Forbidden`` like the group's GET."""
    found = await group_out(platform, caller, group)
    pods, stale = await live.instances(platform, caller, group)
    now = time.time()
    history = await svc.history(platform, caller, group, limit=OPERATIONS)
    made = await releases.list_releases(platform, caller, group)
    return GroupSnapshotOut(
        group=found,
        instances=InstancesOut(stale=stale, items=[InstanceOut.of(p, now, cluster=c) for c, p in pods]),
        operations=[OperationOut.of(o) for o in history],
        release=ReleaseOut.of(made[0]) if made else None,
    )


def _event(kind: str, data: str) -> bytes:
    return f"event: {kind}\ndata: {data}\n\n".encode()


async def _stream(
    platform: Platform, token: str, group: GroupPath, first: GroupSnapshotOut, once: bool
) -> AsyncIterator[bytes]:
    yield _event("snapshot", first.model_dump_json())
    if once:
        return
    seen = first.model_dump_json(exclude=_NO_AGE)
    started = last_sent = time.monotonic()
    checked = started - RECHECK  # authenticated again on the first round
    while time.monotonic() - started < MAX_SECONDS:
        await asyncio.sleep(EVERY)
        try:
            if time.monotonic() - checked > RECHECK:
                caller, checked = await settled(authenticate(platform, token)), time.monotonic()
            now = await settled(snapshot(platform, caller, group))
        except DomainError as e:
            yield _event("error", json.dumps({"code": e.code, "message": str(e)}))
            return
        key = now.model_dump_json(exclude=_NO_AGE)
        if key != seen:
            seen, last_sent = key, time.monotonic()
            yield _event("snapshot", now.model_dump_json())
        elif time.monotonic() - last_sent > KEEPALIVE:
            last_sent = time.monotonic()
            yield b": keep-alive\n\n"


@router.get(
    "/{group}/events",
    tags=["groups"],
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "server-sent events: `snapshot` (data: a GroupSnapshotOut) and `error` ({code, message})",
            "model": GroupSnapshotOut,
            "content": {"text/event-stream": {"schema": {"$ref": "#/components/schemas/GroupSnapshotOut"}}},
        }
    },
)
async def group_events(
    system: str, app: str, group: str, request: Request, platform: PlatformDep, caller: Caller, once: bool = False
) -> StreamingResponse:
    """The group's live state: a ``snapshot`` event now and on every change (within 0.5 s)."""
    path = GroupPath(system, app, group)
    first = await snapshot(platform, caller, path)
    token = request.headers.get("authorization", "").partition(" ")[2]
    return StreamingResponse(
        _stream(platform, token, path, first, once),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
