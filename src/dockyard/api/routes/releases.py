"""/api/v1/systems/{s}/apps/{a}/groups/{g}/releases: gray and rolling releases, and their commands."""

from __future__ import annotations

from fastapi import APIRouter, status

from dockyard.api.deps import Caller, PlatformDep
from dockyard.api.errors import ERRORS
from dockyard.api.schemas.releases import PromoteIn, ReleaseIn, ReleaseOut
from dockyard.domain.model import GroupPath
from dockyard.services import releases

router = APIRouter(
    prefix="/api/v1/systems/{system}/apps/{app}/groups/{group}/releases", responses=ERRORS, tags=["releases"]
)


@router.post("", status_code=status.HTTP_202_ACCEPTED)
async def start_release(
    system: str, app: str, group: str, body: ReleaseIn, platform: PlatformDep, caller: Caller
) -> ReleaseOut:
    """Release an existing ``version``, or a new one from ``spec`` or ``changes``, by ``strategy``."""
    made = await releases.start_release(
        platform,
        caller,
        group=GroupPath(system, app, group),
        target=body.target(),
        strategy=body.strategy,
        steps=body.steps,
        step_deadline_seconds=body.step_deadline_seconds,
        max_restarts=body.max_restarts,
        keep_seconds=body.keep_seconds,
        analysis=body.analysis.model_dump(exclude_none=True) if body.analysis is not None else None,
        reason=body.reason,
    )
    return ReleaseOut.of(made)


@router.get("")
async def list_releases(system: str, app: str, group: str, platform: PlatformDep, caller: Caller) -> list[ReleaseOut]:
    """The group's releases, newest first."""
    return [ReleaseOut.of(r) for r in await releases.list_releases(platform, caller, GroupPath(system, app, group))]


@router.get("/{release_id}")
async def get_release(
    system: str, app: str, group: str, release_id: str, platform: PlatformDep, caller: Caller
) -> ReleaseOut:
    """One release with its ledger: every step with its time, instance counts and checks."""
    return ReleaseOut.of(await releases.get_release(platform, caller, GroupPath(system, app, group), release_id))


@router.post("/{release_id}/promote")
async def promote(
    system: str, app: str, group: str, release_id: str, body: PromoteIn, platform: PlatformDep, caller: Caller
) -> ReleaseOut:
    """End the pause the release waits at (``full``: skip to 100%)."""
    what = "full" if body.full else "promote"
    return ReleaseOut.of(await releases.command(platform, caller, GroupPath(system, app, group), release_id, what))


@router.post("/{release_id}/pause")
async def pause(
    system: str, app: str, group: str, release_id: str, platform: PlatformDep, caller: Caller
) -> ReleaseOut:
    """Hold the release at its next step boundary."""
    return ReleaseOut.of(await releases.command(platform, caller, GroupPath(system, app, group), release_id, "pause"))


@router.post("/{release_id}/resume")
async def resume(
    system: str, app: str, group: str, release_id: str, platform: PlatformDep, caller: Caller
) -> ReleaseOut:
    return ReleaseOut.of(await releases.command(platform, caller, GroupPath(system, app, group), release_id, "resume"))


@router.post("/{release_id}/abort")
async def abort(
    system: str, app: str, group: str, release_id: str, platform: PlatformDep, caller: Caller
) -> ReleaseOut:
    """Back to the stable version at full count; the new instances are removed."""
    return ReleaseOut.of(await releases.command(platform, caller, GroupPath(system, app, group), release_id, "abort"))
