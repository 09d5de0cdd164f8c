"""The Prometheus adapter: what it sends, how it reads answers, its errors (a mock transport)."""

from __future__ import annotations

import json
import math

import httpx
import pytest

from dockyard.adapters.prometheus import Prometheus, PrometheusError, PrometheusUnavailable
from dockyard.domain.failures import MetricsFailure, MetricsUnavailable
from dockyard.domain.metrics import Series, Target


def _answer(handler: httpx.MockTransport) -> Prometheus:
    return Prometheus("http://prom:9090/", transport=handler)


async def test_instant_and_range_queries_become_series() -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/api/v1/query":
            data = {"resultType": "vector", "result": [{"metric": {"pod": "a"}, "value": [10.5, "0.25"]}]}
        else:
            data = {"resultType": "matrix", "result": [{"metric": {}, "values": [[1, "1"], [2, "NaN"]]}]}
        return httpx.Response(200, json={"status": "success", "data": data})

    prom = _answer(httpx.MockTransport(handle))
    assert await prom.query('up{a="b"}', at=10.5) == [Series({"pod": "a"}, [(10.5, 0.25)])]
    ranged = await prom.query_range("x", start=0.0, end=60.0, step=30.0)
    assert ranged[0].points[0] == (1.0, 1.0)
    assert seen[0].url.params["query"] == 'up{a="b"}'
    assert seen[1].url.params["step"] == "30"
    await prom.aclose()


async def test_targets_and_rules() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/targets":
            data = {
                "activeTargets": [
                    {
                        "labels": {"job": "kubelet"},
                        "scrapePool": "kwok-cadvisor",
                        "health": "down",
                        "lastError": "refused",
                        "scrapeUrl": "http://x",
                    }
                ]
            }
        else:
            data = {"groups": [{"name": "dockyard.rollup", "rules": [{"name": "group:x:sum", "type": "recording"}]}]}
        return httpx.Response(200, json={"status": "success", "data": data})

    prom = _answer(httpx.MockTransport(handle))
    assert await prom.targets() == [Target("kubelet", "kwok-cadvisor", up=False, error="refused", url="http://x")]
    assert await prom.recorded() == {"group:x:sum"}
    await prom.aclose()


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (400, {"status": "error", "errorType": "bad_data", "error": "parse error"}, PrometheusError),
        (503, {"status": "error", "errorType": "unavailable", "error": "not ready"}, PrometheusUnavailable),
        (422, {"status": "error", "errorType": "timeout", "error": "query timed out"}, PrometheusUnavailable),
        (502, "<html>bad gateway</html>", PrometheusUnavailable),
    ],
)
async def test_errors_are_the_adapters_own(status: int, body: object, error: type[Exception]) -> None:
    content = json.dumps(body) if isinstance(body, dict) else str(body)
    prom = _answer(httpx.MockTransport(lambda _r: httpx.Response(status, content=content)))
    with pytest.raises(error) as info:
        await prom.query("x", at=0.0)
    assert isinstance(info.value, MetricsFailure)
    await prom.aclose()


async def test_unreachable_is_unavailable() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    prom = _answer(httpx.MockTransport(refuse))
    with pytest.raises(MetricsUnavailable, match="cannot be reached: ConnectError"):
        await prom.targets()
    await prom.aclose()


async def test_values_prometheus_writes_as_strings_become_floats_infinities_included() -> None:
    """The fast decoder reads "0.25", "NaN" and "-Inf"; "+Inf" (which it refuses) is read the slow way."""

    def handle(request: httpx.Request) -> httpx.Response:
        last = request.url.params["query"]
        values = [[1, "0.25"], [2, "NaN"], [3, "-Inf"], [4.5, last]]
        data = {"resultType": "matrix", "result": [{"metric": {"pod": "a"}, "values": values}, {"values": []}]}
        return httpx.Response(200, json={"status": "success", "data": data})

    prom = _answer(httpx.MockTransport(handle))
    for last, value in (("1e-7", 1e-7), ("+Inf", math.inf)):
        got = await prom.query_range(last, start=0.0, end=60.0, step=30.0)
        assert [s.labels for s in got] == [{"pod": "a"}, {}]
        points = got[0].points
        assert points[0] == (1.0, 0.25)
        assert math.isnan(points[1][1])
        assert points[2] == (3.0, -math.inf)
        assert points[3] == (4.5, value)
    await prom.aclose()


@pytest.mark.parametrize(
    "result",
    [
        [{"metric": {"pod": "a"}, "values": [[1, "x"]]}],  # a value that is no number
        [{"metric": {"pod": "a"}}],  # an instant query's item without its value
        {"not": "a list"},
    ],
)
async def test_a_result_that_cannot_be_read_is_the_stores_fault(result: object) -> None:
    body = {"status": "success", "data": {"resultType": "vector", "result": result}}
    prom = _answer(httpx.MockTransport(lambda _r: httpx.Response(200, json=body)))
    with pytest.raises(PrometheusUnavailable, match="not a query's result"):
        await prom.query("x", at=0.0)
    await prom.aclose()
