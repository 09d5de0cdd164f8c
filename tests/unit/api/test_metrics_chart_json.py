"""A chart's JSON as the metrics routes encode it (msgspec) is what ``ChartOut`` describes."""

from __future__ import annotations

import json
import math

import pytest

from dockyard.api.routes.metrics import encode
from dockyard.api.schemas.metrics import ChartOut
from dockyard.domain.metrics import METRICS, EmptyReason, Series, Window
from dockyard.services.metrics import Chart

SERIES = [
    Series({"pod": "web-1", "cluster": "local"}, [(1000.0, 0.25), (1030.0, math.nan), (1060.0, math.inf)]),
    Series({"pod": "web-2", "cluster": "local"}, [(1000.0, 3.0)]),
]


@pytest.mark.parametrize(
    "chart",
    [
        Chart(METRICS["cpu"], "instance", 'sum(x{a="b"})', Window(1060.0, 3600.0, 30.0), SERIES, None),
        Chart(METRICS["memory_rss"], "group", "y", Window(5.5), [], EmptyReason("no_target", "no target")),
    ],
)
def test_the_encoded_chart_is_the_response_models_json(chart: Chart) -> None:
    encoded = json.loads(encode(chart))
    assert encoded == json.loads(ChartOut.of(chart).model_dump_json())
