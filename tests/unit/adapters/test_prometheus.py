"""The Prometheus adapter: what it sends, how it reads answers, its errors (a mock transport)."""

from __future__ import annotations

import json

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
