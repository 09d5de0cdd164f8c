"""GET …/groups/{g}/apm: a group's requests/s, error ratio and p50/p90/p99, per version or per method.

Query: ``by`` (version, method), ``since`` (the window of rates and quantiles: 5m by default, 15s to
1d), ``top`` (N of the top-N tables, 1–100), ``range`` / ``step`` (add p99 and requests/s per key over
time). Readable by whoever may read the group (else 404); 422 names the bad parameter; 503 when the
metrics store cannot answer.
"""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Query

from dockyard.api.deps import Caller, PlatformDep
from dockyard.api.errors import ERRORS
from dockyard.api.schemas.apm import ApmOut
from dockyard.domain import apm
from dockyard.domain.metrics import duration, window
from dockyard.domain.model import GroupPath
from dockyard.services import apm as svc

router = APIRouter(prefix="/api/v1/systems/{system}/apps/{app}/groups/{group}", responses=ERRORS, tags=["metrics"])


@router.get("/apm")
async def group_apm(
    system: str,
    app: str,
    group: str,
    platform: PlatformDep,
    caller: Caller,
    by: Annotated[str, Query(description="version or method")] = "version",
    since: Annotated[str, Query(description="the window: 1m, 5m, 1h")] = "5m",
    top: Annotated[int, Query(ge=1, le=apm.MAX_TOP, description="N of the top-N tables")] = apm.DEFAULT_TOP,
    range_: Annotated[str | None, Query(alias="range", description="with p99 and requests/s over 15m, 1h…")] = None,
    step: Annotated[str | None, Query(description="one point every: 30s, 1m")] = None,
) -> ApmOut:
    """The group's application performance from the request-duration histogram its instances export."""
    now = time.time()
    span = window(range_, step, now=now) if range_ is not None else None
    table = await svc.table(
        platform,
        caller,
        GroupPath(system, app, group),
        by=by,
        window=duration(since, "since"),
        top=top,
        span=span,
        now=now,
    )
    return ApmOut.of(table, apm.HISTOGRAM)
