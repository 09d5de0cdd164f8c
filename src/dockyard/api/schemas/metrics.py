"""Metrics charts as the API answers them."""

from __future__ import annotations

from pydantic import BaseModel, Field

from dockyard.services.metrics import Chart


class SeriesOut(BaseModel):
    labels: dict[str, str] = Field(description="what the series is: e.g. pod and cluster, or group, or idc")
    points: list[tuple[float, float]] = Field(description="(Unix time, value) pairs, oldest first")


class EmptyOut(BaseModel):
    code: str = Field(description="rule_not_loaded, no_target, target_down, series_absent or no_data")
    message: str


class ChartOut(BaseModel):
    metric: str
    unit: str
    level: str
    query: str = Field(description="the PromQL Dockyard sent to Prometheus")
    range_seconds: float = Field(description="0: the latest value only")
    step_seconds: float
    end: float
    series: list[SeriesOut]
    empty: EmptyOut | None = Field(description="why there is no series, when there is none")

    @classmethod
    def of(cls, chart: Chart) -> ChartOut:
        return cls(
            metric=chart.metric.key,
            unit=chart.metric.unit,
            level=chart.level,
            query=chart.query,
            range_seconds=chart.window.range,
            step_seconds=chart.window.step,
            end=chart.window.end,
            series=[SeriesOut(labels=s.labels, points=s.points) for s in chart.series],
            empty=EmptyOut(code=chart.empty.code, message=chart.empty.message) if chart.empty else None,
        )
