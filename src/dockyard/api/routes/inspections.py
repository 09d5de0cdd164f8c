"""/api/v1/inspections: inspection runs and their reports, their differences, runs on demand, and
the platform's schedule. Platform admins only (see docs/inspection.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from dockyard.api.deps import Caller, PlatformDep
from dockyard.api.errors import ERRORS
from dockyard.api.schemas.inspections import ChangeOut, DiffOut, RunIn, RunOut, ScheduleIn, ScheduleOut
from dockyard.services import inspection

router = APIRouter(prefix="/api/v1/inspections", responses=ERRORS, tags=["inspections"])
RunId = Annotated[int, Path(ge=1, le=2**31 - 1, description="an inspection run's id")]


@router.get("")
async def list_runs(
    platform: PlatformDep, caller: Caller, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> list[RunOut]:
    """Inspection runs, newest first (without their findings)."""
    return [RunOut.of(r) for r in await inspection.runs(platform, caller, limit=limit)]


@router.post("", status_code=status.HTTP_201_CREATED)
async def run_now(body: RunIn, platform: PlatformDep, caller: Caller) -> RunOut:
    """Inspect now (every cluster and Dockyard itself, or only ``clusters``); the run with its report."""
    return RunOut.of(await inspection.run(platform, caller, clusters=body.clusters))


@router.get("/schedule")
async def get_schedule(platform: PlatformDep, caller: Caller) -> ScheduleOut:
    """The schedule: a cron expression in a time zone, whether it is on, who is told, the next run."""
    return ScheduleOut.of(await inspection.schedule(platform, caller))


@router.put("/schedule")
async def put_schedule(body: ScheduleIn, platform: PlatformDep, caller: Caller) -> ScheduleOut:
    """Replace the schedule (its next run is computed from now)."""
    made = await inspection.set_schedule(
        platform,
        caller,
        cron=body.cron,
        timezone=body.timezone,
        enabled=body.enabled,
        notify_system=body.notify_system,
    )
    return ScheduleOut.of(made)


@router.get("/{run_id}")
async def show_run(run_id: RunId, platform: PlatformDep, caller: Caller) -> RunOut:
    """A run with its report: each check's result per cluster, the evidence, what changed."""
    return RunOut.of(await inspection.show(platform, caller, run_id))


@router.get("/{run_id}/diff")
async def diff_runs(
    run_id: RunId,
    platform: PlatformDep,
    caller: Caller,
    against: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="the older run (default: the one before)")
    ] = None,
) -> DiffOut:
    """The checks whose result differs between run ``against`` and run ``run_id``."""
    newer, older, changes = await inspection.compare(platform, caller, run_id, against=against)
    return DiffOut(run=newer.id, against=older.id if older else None, changes=[ChangeOut.of(c) for c in changes])
