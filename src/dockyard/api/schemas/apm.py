"""A group's application performance as the API answers it."""

from __future__ import annotations

from pydantic import BaseModel, Field

from dockyard.api.schemas.metrics import SeriesOut
from dockyard.domain.apm import Row
from dockyard.services.apm import Table


class RowOut(BaseModel):
    key: dict[str, str] = Field(description="{version} or {method, route}")
    rps: float = Field(description="requests per second")
    error_ratio: float | None = Field(description="5xx / requests; null without requests")
    p50: float | None = Field(description="seconds; null without data")
    p90: float | None
    p99: float | None

    @classmethod
    def of(cls, row: Row) -> RowOut:
        return cls(key=row.key, rps=row.rps, error_ratio=row.error_ratio, p50=row.p50, p90=row.p90, p99=row.p99)


class ApmOut(BaseModel):
    by: str = Field(description="version or method")
    histogram: str = Field(description="the request-duration histogram read (docs/apm.md)")
    window_seconds: float = Field(description="rates and quantiles over this many seconds up to `at`")
    at: float
    rows: list[RowOut] = Field(description="every key, in the order of its text")
    top_p99: list[RowOut] = Field(description="the top N by p99")
    top_rps: list[RowOut] = Field(description="the top N by requests per second")
    queries: dict[str, str] = Field(description="the PromQL Dockyard sent to Prometheus, by name")
    p99_series: list[SeriesOut] = Field(description="with range: p99 per key over time")
    rps_series: list[SeriesOut] = Field(description="with range: requests/s per key over time")

    @classmethod
    def of(cls, table: Table, histogram: str) -> ApmOut:
        return cls(
            by=table.by,
            histogram=histogram,
            window_seconds=table.window,
            at=table.at,
            rows=[RowOut.of(r) for r in table.rows],
            top_p99=[RowOut.of(r) for r in table.top_p99],
            top_rps=[RowOut.of(r) for r in table.top_rps],
            queries=table.queries,
            p99_series=[SeriesOut(labels=s.labels, points=s.points) for s in table.p99_series],
            rps_series=[SeriesOut(labels=s.labels, points=s.points) for s in table.rps_series],
        )
