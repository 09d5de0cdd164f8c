"""Resource statistics and chargeback (docs/statistics.md).

- ``GET /api/v1/statistics`` and ``GET …/systems/{s}[/apps/{a}[/groups/{g}]]/statistics``: the daily
  rollups of a period (``from``, ``to``: UTC days, default the last 30) at a ``level`` (group, app,
  system, cluster, idc; instance under a group), summed over the period unless ``daily``, split per
  cluster with ``by_cluster``. Without a path the caller's visible rows only; a path the caller cannot
  read is 404.
- ``GET /api/v1/statistics/growth``: the applications whose requests grew most in the period.
- ``GET /api/v1/clusters/{name}/statistics/without-nodes``: which groups would not fit if the cluster
  lost its ``count`` largest nodes (or the ``node``s named); platform admins.
- ``GET /api/v1/prices``, ``PUT /api/v1/clusters/{name}/price``: the prices per core-hour and
  GiB-hour (setting them: platform admins).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query

from dockyard.api.deps import Caller, PlatformDep
from dockyard.api.errors import ERRORS
from dockyard.api.schemas.statistics import GrowthOut, GrowthRowOut, LostNodesOut, PriceIn, PriceOut, StatisticsOut
from dockyard.domain.access import Principal
from dockyard.services import statistics as svc
from dockyard.services.platform import Platform

router = APIRouter(responses=ERRORS, tags=["statistics"])

FromQ = Annotated[dt.date | None, Query(alias="from", description="first UTC day (default: 29 days before to)")]
ToQ = Annotated[dt.date | None, Query(alias="to", description="last UTC day (default: today)")]
LevelQ = Annotated[str, Query(description="group, app, system, cluster, idc (instance: under a group)")]
DailyQ = Annotated[bool, Query(description="one row per day instead of the period's sum")]
ByClusterQ = Annotated[bool, Query(description="split rows per cluster")]


async def _report(
    platform: Platform,
    caller: Principal,
    scope: svc.Scope,
    level: str,
    first: dt.date | None,
    last: dt.date | None,
    daily: bool,
    by_cluster: bool,
) -> StatisticsOut:
    found = await svc.report(
        platform, caller, scope=scope, level=level, first=first, last=last, daily=daily, by_cluster=by_cluster
    )
    return StatisticsOut.of(found)


@router.get("/api/v1/statistics")
async def get_statistics(
    platform: PlatformDep,
    caller: Caller,
    first: FromQ = None,
    last: ToQ = None,
    level: LevelQ = "system",
    daily: DailyQ = False,
    by_cluster: ByClusterQ = False,
) -> StatisticsOut:
    """The statistics of every system and application the caller has a role in."""
    return await _report(platform, caller, svc.Scope(), level, first, last, daily, by_cluster)


@router.get("/api/v1/statistics/growth")
async def get_growth(
    platform: PlatformDep,
    caller: Caller,
    first: FromQ = None,
    last: ToQ = None,
    limit: Annotated[int, Query(description="how many applications")] = 10,
) -> GrowthOut:
    """The visible applications whose requested CPU grew most from the period's first day to its last."""
    first, last, found = await svc.growth(platform, caller, scope=svc.Scope(), first=first, last=last, limit=limit)
    return GrowthOut(first=first, last=last, rows=[GrowthRowOut.of(g) for g in found])


@router.get("/api/v1/systems/{system}/statistics")
async def get_system_statistics(
    system: str,
    platform: PlatformDep,
    caller: Caller,
    first: FromQ = None,
    last: ToQ = None,
    level: LevelQ = "app",
    daily: DailyQ = False,
    by_cluster: ByClusterQ = False,
) -> StatisticsOut:
    """A system's statistics (404 if the caller cannot read it)."""
    return await _report(platform, caller, svc.Scope(system), level, first, last, daily, by_cluster)


@router.get("/api/v1/systems/{system}/apps/{app}/statistics")
async def get_app_statistics(
    system: str,
    app: str,
    platform: PlatformDep,
    caller: Caller,
    first: FromQ = None,
    last: ToQ = None,
    level: LevelQ = "group",
    daily: DailyQ = False,
    by_cluster: ByClusterQ = False,
) -> StatisticsOut:
    """An application's statistics (404 if the caller cannot read it)."""
    return await _report(platform, caller, svc.Scope(system, app), level, first, last, daily, by_cluster)


@router.get("/api/v1/systems/{system}/apps/{app}/groups/{group}/statistics")
async def get_group_statistics(
    system: str,
    app: str,
    group: str,
    platform: PlatformDep,
    caller: Caller,
    first: FromQ = None,
    last: ToQ = None,
    level: LevelQ = "instance",
    daily: DailyQ = False,
    by_cluster: ByClusterQ = False,
) -> StatisticsOut:
    """A group's statistics, by instance by default (404 if the caller cannot read it)."""
    return await _report(platform, caller, svc.Scope(system, app, group), level, first, last, daily, by_cluster)


@router.get("/api/v1/clusters/{name}/statistics/without-nodes")
async def get_without_nodes(
    name: str,
    platform: PlatformDep,
    caller: Caller,
    count: Annotated[int, Query(description="lose this many of the largest nodes")] = 1,
    node: Annotated[list[str] | None, Query(description="lose these nodes instead")] = None,
) -> LostNodesOut:
    """Which groups' instances would find no room if the cluster lost nodes (platform admins)."""
    found = await svc.without_nodes(platform, caller, cluster=name, count=count, nodes=node or ())
    return LostNodesOut.of(found)


@router.get("/api/v1/prices")
async def get_prices(platform: PlatformDep, caller: Caller) -> list[PriceOut]:
    """Every cluster's prices, each from its day on."""
    return [PriceOut.of(p) for p in await svc.prices(platform, caller)]


@router.put("/api/v1/clusters/{name}/price")
async def put_price(name: str, body: PriceIn, platform: PlatformDep, caller: Caller) -> PriceOut:
    """Set a cluster's prices from a day on (platform admins; 404 for an unknown cluster)."""
    price = await svc.set_price(
        platform, caller, cluster=name, core_hour=body.core_hour, gib_hour=body.gib_hour, since=body.since
    )
    return PriceOut.of(price)
