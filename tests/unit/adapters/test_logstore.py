"""The VictoriaLogs adapter: what it sends (JSON lines, not a form), how it reads answers, its errors."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import httpx
import pytest

from dockyard.adapters.logstore import LogStoreError, LogStoreUnavailable, VictoriaLogs
from dockyard.domain.failures import LogStoreFailure
from dockyard.domain.failures import LogStoreUnavailable as DomainUnavailable


def _store(handle: httpx.MockTransport) -> VictoriaLogs:
    return VictoriaLogs("http://vl:9428/", stream_fields=("cluster", "instance"), transport=handle)


async def test_insert_sends_json_lines_with_the_stream_fields() -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    store = _store(httpx.MockTransport(handle))
    await store.insert([{"_time": "t1", "_msg": 'a "b"\n'}, {"_time": "t2", "_msg": "日本"}])
    await store.insert([])  # nothing to send: no request
    request = seen[0]
    assert len(seen) == 1
    assert request.url.path == "/insert/jsonline"
    assert request.url.params["_stream_fields"] == "cluster,instance"
    assert request.headers["content-type"] == "application/stream+json"  # a form body would be eaten
    rows = [json.loads(line) for line in request.content.decode().splitlines()]
    assert rows == [{"_time": "t1", "_msg": 'a "b"\n'}, {"_time": "t2", "_msg": "日本"}]
    await store.aclose()


async def test_query_posts_the_logsql_and_reads_json_lines() -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, text='{"_time":"t","_msg":"x","n":2}\n\n{"_msg":"y"}\n')

    store = _store(httpx.MockTransport(handle))
    rows = await store.query('_msg:*"a b"*', params={"start": "s"})
    assert rows == [{"_time": "t", "_msg": "x", "n": "2"}, {"_msg": "y"}]
    form = parse_qs(seen[0].content.decode())
    assert (seen[0].url.path, form["query"], form["start"]) == ("/select/logsql/query", ['_msg:*"a b"*'], ["s"])


@pytest.mark.parametrize(
    ("answer", "error", "text"),
    [
        (httpx.Response(400, text="cannot parse query"), LogStoreError, "cannot parse query"),
        (httpx.Response(502), LogStoreUnavailable, "answered 502"),
        (httpx.Response(200, text="not json\n"), LogStoreError, "not JSON"),
    ],
)
async def test_errors(answer: httpx.Response, error: type[Exception], text: str) -> None:
    store = _store(httpx.MockTransport(lambda _r: answer))
    with pytest.raises(error, match=text) as raised:
        await store.query("*")
    assert isinstance(raised.value, LogStoreFailure)


async def test_unreachable_is_unavailable_with_the_cause() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    store = _store(httpx.MockTransport(handle))
    with pytest.raises(DomainUnavailable) as raised:
        await store.flush()
    assert isinstance(raised.value.__cause__, httpx.ConnectError)
    assert await store.ready() is False
