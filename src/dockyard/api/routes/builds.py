"""/api/v1/systems/{s}/apps/{a}/builds and …/images: builds from git to an image, their logs (JSON
or server-sent events), cancel; the application's images and the registry cleanup."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query, status
from fastapi.responses import StreamingResponse

from dockyard.api.deps import Caller, PlatformDep
from dockyard.api.errors import ERRORS
from dockyard.api.schemas.builds import BuildIn, BuildLogOut, BuildOut, GcIn, GcOut, ImageOut, LogLine
from dockyard.api.settle import settled
from dockyard.domain.access import Principal
from dockyard.domain.model import AppPath
from dockyard.services import builds, images
from dockyard.services.platform import Platform

router = APIRouter(prefix="/api/v1/systems/{system}/apps/{app}", responses=ERRORS, tags=["builds"])
FOLLOW_POLL = 0.3


@router.post("/builds", status_code=status.HTTP_202_ACCEPTED)
async def start_build(system: str, app: str, body: BuildIn, platform: PlatformDep, caller: Caller) -> BuildOut:
    """Queue a build of ``commit``, ``branch`` or ``tag`` of ``source``; 422 names a refused field."""
    made = await builds.start_build(
        platform,
        caller,
        app=AppPath(system, app),
        source=body.source,
        commit=body.commit,
        branch=body.branch,
        tag=body.tag,
        dockerfile=body.dockerfile,
        build_args=body.build_args,
        force=body.force,
        timeout_seconds=body.timeout_seconds,
    )
    return BuildOut.of(made)


@router.get("/builds")
async def list_builds(system: str, app: str, platform: PlatformDep, caller: Caller) -> list[BuildOut]:
    """The application's builds, newest first."""
    return [BuildOut.of(b) for b in await builds.list_builds(platform, caller, AppPath(system, app))]


@router.get("/builds/{build_id}")
async def get_build(system: str, app: str, build_id: str, platform: PlatformDep, caller: Caller) -> BuildOut:
    return BuildOut.of(await builds.get_build(platform, caller, AppPath(system, app), build_id))


@router.post("/builds/{build_id}/cancel")
async def cancel_build(system: str, app: str, build_id: str, platform: PlatformDep, caller: Caller) -> BuildOut:
    """Stop the build at whatever stage it is; 409 when it has ended."""
    return BuildOut.of(await builds.cancel(platform, caller, AppPath(system, app), build_id))


@router.get(
    "/builds/{build_id}/logs",
    response_model=None,
    responses={200: {"content": {"text/event-stream": {}}, "description": "JSON, or events with follow=true"}},
)
async def build_logs(
    system: str,
    app: str,
    build_id: str,
    platform: PlatformDep,
    caller: Caller,
    follow: bool = False,
    after: Annotated[int, Query(ge=0)] = 0,
    last_event_id: Annotated[str | None, Header()] = None,
) -> BuildLogOut | StreamingResponse:
    """The log lines after ``after``; with ``follow=true`` server-sent events: one ``data`` per line
    (its ``id`` is the line number, so a reconnecting client resumes with Last-Event-ID) until the
    build ends, then an ``end`` event with its status."""
    if last_event_id and last_event_id.isdigit():
        after = max(after, int(last_event_id))
    build, lines = await builds.log_lines(platform, caller, AppPath(system, app), build_id, after=after)
    if not follow:
        return BuildLogOut(status=build.status, lines=[LogLine(seq=s, line=t) for s, t in lines])
    return StreamingResponse(
        _events(platform, caller, AppPath(system, app), build_id, after),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _events(platform: Platform, caller: Principal, app: AppPath, build_id: str, after: int) -> AsyncIterator[str]:
    while True:
        build, lines = await settled(builds.log_lines(platform, caller, app, build_id, after=after))
        for seq, text in lines:
            after = seq
            yield f"id: {seq}\ndata: {text}\n\n"
        if build.ended and not lines:
            yield f"event: end\ndata: {json.dumps({'status': build.status, 'reason': build.reason})}\n\n"
            return
        if not lines:
            await asyncio.sleep(FOLLOW_POLL)


@router.get("/images")
async def list_images(system: str, app: str, platform: PlatformDep, caller: Caller) -> list[ImageOut]:
    """The application's repository in its registry: each tag with digest, size and who uses it."""
    return [ImageOut.of(i) for i in await images.list_images(platform, caller, AppPath(system, app))]


@router.post("/images/gc")
async def gc_images(system: str, app: str, body: GcIn, platform: PlatformDep, caller: Caller) -> GcOut:
    """Delete the images no version among the last ``keep`` of each group uses (owners)."""
    keep = body.keep or platform.config.image_keep
    return GcOut.of(await images.gc(platform, caller, AppPath(system, app), keep=keep, dry_run=body.dry_run))
