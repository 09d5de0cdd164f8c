"""Bodies of the statistics, growth, lost-nodes and price endpoints (docs/statistics.md).

Amounts are exact integers: CPU in milli-core-seconds, memory in byte-seconds (JSON numbers may exceed
2^53: JavaScript readers should use the ``*_hours`` decimal strings); hours and costs are decimal
strings (core-hours and GiB-hours to 6 decimals; a cost is exact, summed from rows rounded to 1e-6).
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal

from pydantic import BaseModel, Field

from dockyard.domain.statistics import (
    BYTE_SECONDS_PER_GIB_HOUR,
    COST_QUANTUM,
    MILLI_CORE_SECONDS_PER_CORE_HOUR,
    Displaced,
    Growth,
    Price,
    Row,
)
from dockyard.services.statistics import LostNodes, Report


def core_hours(milli_core_seconds: int) -> str:
    value = Decimal(milli_core_seconds) / MILLI_CORE_SECONDS_PER_CORE_HOUR
    return str(value.quantize(COST_QUANTUM, rounding=ROUND_HALF_EVEN))


def gib_hours(byte_seconds: int) -> str:
    value = Decimal(byte_seconds) / BYTE_SECONDS_PER_GIB_HOUR
    return str(value.quantize(COST_QUANTUM, rounding=ROUND_HALF_EVEN))


class StatRowOut(BaseModel):
    day: dt.date | None = Field(description="the UTC day; null when the row covers the whole period")
    system: str
    app: str
    group: str
    cluster: str
    idc: str
    instance: str
    cpu_requested: int = Field(description="milli-core-seconds requested")
    cpu_used: int = Field(description="milli-core-seconds used")
    cpu_billed: int = Field(description="milli-core-seconds billed: max(requested, used) per instance and step")
    memory_requested: int = Field(description="byte-seconds requested")
    memory_used: int = Field(description="byte-seconds used (working set)")
    memory_billed: int = Field(description="byte-seconds billed")
    seconds: int = Field(description="instance-seconds counted")
    unmeasured: int = Field(description="instance-seconds without a usage measurement (billed as requested)")
    cpu_requested_core_hours: str
    cpu_used_core_hours: str
    cpu_billed_core_hours: str
    memory_requested_gib_hours: str
    memory_used_gib_hours: str
    memory_billed_gib_hours: str
    cpu_efficiency: float | None = Field(description="used / requested CPU")
    memory_efficiency: float | None
    cost: str | None = Field(description="billed × the cluster's prices of each day; null: no price")
    low_efficiency: bool = Field(description="a group below 30 % CPU efficiency on each of its last 7 days")

    @classmethod
    def of(cls, row: Row, *, low: bool = False) -> StatRowOut:
        a = row.amounts
        return cls(
            day=row.day,
            system=row.system,
            app=row.app,
            group=row.group,
            cluster=row.cluster,
            idc=row.idc,
            instance=row.instance,
            cpu_requested=a.cpu_requested,
            cpu_used=a.cpu_used,
            cpu_billed=a.cpu_billed,
            memory_requested=a.memory_requested,
            memory_used=a.memory_used,
            memory_billed=a.memory_billed,
            seconds=a.seconds,
            unmeasured=a.unmeasured,
            cpu_requested_core_hours=core_hours(a.cpu_requested),
            cpu_used_core_hours=core_hours(a.cpu_used),
            cpu_billed_core_hours=core_hours(a.cpu_billed),
            memory_requested_gib_hours=gib_hours(a.memory_requested),
            memory_used_gib_hours=gib_hours(a.memory_used),
            memory_billed_gib_hours=gib_hours(a.memory_billed),
            cpu_efficiency=a.cpu_efficiency,
            memory_efficiency=a.memory_efficiency,
            cost=None if row.cost is None else str(row.cost),
            low_efficiency=low,
        )


class StatisticsOut(BaseModel):
    first: dt.date
    last: dt.date
    level: str
    sampled_seconds: int = Field(description="seconds of the period some server sampled")
    measured_seconds: int = Field(description="of those, seconds with Prometheus' usage")
    rows: list[StatRowOut]

    @classmethod
    def of(cls, report: Report) -> StatisticsOut:
        return cls(
            first=report.first,
            last=report.last,
            level=report.level,
            sampled_seconds=report.sampled,
            measured_seconds=report.measured,
            rows=[
                StatRowOut.of(r, low=report.level == "group" and (r.system, r.app, r.group) in report.low)
                for r in report.rows
            ],
        )


class GrowthRowOut(BaseModel):
    system: str
    app: str
    cpu_first_core_hours: str = Field(description="core-hours requested on the period's first day")
    cpu_last_core_hours: str
    cpu_growth_core_hours: str
    memory_first_gib_hours: str
    memory_last_gib_hours: str
    memory_growth_gib_hours: str

    @classmethod
    def of(cls, g: Growth) -> GrowthRowOut:
        return cls(
            system=g.system,
            app=g.app,
            cpu_first_core_hours=core_hours(g.first.cpu_requested),
            cpu_last_core_hours=core_hours(g.last.cpu_requested),
            cpu_growth_core_hours=core_hours(g.cpu),
            memory_first_gib_hours=gib_hours(g.first.memory_requested),
            memory_last_gib_hours=gib_hours(g.last.memory_requested),
            memory_growth_gib_hours=gib_hours(g.memory),
        )


class GrowthOut(BaseModel):
    first: dt.date
    last: dt.date
    rows: list[GrowthRowOut]


class DisplacedOut(BaseModel):
    system: str
    app: str
    group: str
    instances: int = Field(description="instances on the lost nodes")
    fit: int = Field(description="how many of them the other nodes could take")
    fits: bool
    reason: str = Field(description="the scheduler's message for the first that does not fit")

    @classmethod
    def of(cls, d: Displaced) -> DisplacedOut:
        return cls(
            system=d.system, app=d.app, group=d.group, instances=d.instances, fit=d.fit, fits=d.fits, reason=d.reason
        )


class LostNodesOut(BaseModel):
    cluster: str
    nodes: list[str] = Field(description="the nodes taken as lost")
    groups: list[DisplacedOut]

    @classmethod
    def of(cls, lost: LostNodes) -> LostNodesOut:
        return cls(cluster=lost.cluster, nodes=lost.nodes, groups=[DisplacedOut.of(d) for d in lost.displaced])


class PriceIn(BaseModel):
    core_hour: str = Field(description="price per core-hour (decimal, ≤ 6 decimals)", max_length=40)
    gib_hour: str = Field(description="price per GiB-hour of memory", max_length=40)
    since: dt.date | None = Field(default=None, description="first day (UTC) it applies; default today")


class PriceOut(BaseModel):
    cluster: str
    since: dt.date
    core_hour: str
    gib_hour: str

    @classmethod
    def of(cls, p: Price) -> PriceOut:
        return cls(cluster=p.cluster, since=p.since, core_hour=str(p.core_hour), gib_hour=str(p.gib_hour))
