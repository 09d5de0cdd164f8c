"""A client of Prometheus' HTTP API returning the domain's plain records (:mod:`dockyard.domain.metrics`).

Query answers (a chart's matrix: series × points) are decoded by msgspec straight into the points'
``(float, float)`` tuples, values included (Prometheus sends them as strings), without a Python object
per JSON node; the few answers msgspec's lax mode cannot read (``"+Inf"``) are read again the slow way.
"""

from __future__ import annotations

from typing import Any, Generic, Protocol, TypeVar, cast

import httpx
import msgspec

from dockyard.adapters.prometheus.errors import PrometheusError, PrometheusUnavailable
from dockyard.domain.metrics import Series, Target


class Prometheus:
    """Prometheus at ``url``; one connection pool for the process (closed by :meth:`aclose`)."""

    def __init__(self, url: str, *, timeout: float = 10.0, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.AsyncClient(base_url=self.url, timeout=timeout, transport=transport)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def query(self, promql: str, *, at: float) -> list[Series]:
        """The instant vector of ``promql`` at Unix time ``at``, each series with one point."""
        answer = await self._send("/api/v1/query", {"query": promql, "time": f"{at:.3f}"})
        return [Series(labels=item.metric, points=[item.value]) for item in self._decode(answer, _VECTOR)]

    async def query_range(self, promql: str, *, start: float, end: float, step: float) -> list[Series]:
        """``promql`` from ``start`` to ``end`` every ``step`` seconds."""
        params = {"query": promql, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"}
        answer = await self._send("/api/v1/query_range", params)
        return [Series(labels=item.metric, points=item.values) for item in self._decode(answer, _MATRIX)]

    async def targets(self) -> list[Target]:
        """The active scrape targets: their job, health and last error."""
        data = await self._get("/api/v1/targets", {"state": "active"})
        return [
            Target(
                job=str(t.get("labels", {}).get("job") or t.get("scrapePool", "")),
                pool=str(t.get("scrapePool", "")),
                up=t.get("health") == "up",
                error=str(t.get("lastError", "")),
                url=str(t.get("scrapeUrl", "")),
            )
            for t in data.get("activeTargets", [])
        ]

    async def recorded(self) -> set[str]:
        """The names of the recording rules loaded."""
        data = await self._get("/api/v1/rules", {"type": "record"})
        return {str(r.get("name")) for g in data.get("groups", []) for r in g.get("rules", [])}

    async def _get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        answer = await self._send(path, params)
        try:
            body = answer.json()
        except ValueError as e:
            raise PrometheusUnavailable(f"Prometheus at {self.url} answered {answer.status_code}, not JSON") from e
        if not isinstance(body, dict):
            raise PrometheusUnavailable(f"Prometheus at {self.url} answered {answer.status_code}, not an object")
        self._check(answer.status_code, body.get("status"), body.get("error"), body.get("errorType"))
        data: dict[str, Any] = body.get("data") or {}
        return data

    async def _send(self, path: str, params: dict[str, str]) -> httpx.Response:
        try:
            answer = await self._http.get(path, params=params)
        except httpx.HTTPError as e:
            raise PrometheusUnavailable(f"Prometheus at {self.url} cannot be reached: {type(e).__name__}") from e
        if answer.status_code >= 500 and answer.status_code != 503:
            raise PrometheusUnavailable(f"Prometheus at {self.url} answered {answer.status_code}")
        return answer

    def _decode(self, answer: httpx.Response, decoders: tuple[_Decoder[_T], _Decoder[_T]]) -> list[_T]:
        """The result of a query's answer: first in msgspec's lax mode (values from their strings), then
        strictly with the values as strings when lax mode refuses one (``"+Inf"``)."""
        for decoder in decoders:
            try:
                body = decoder.decode(answer.content)
            except msgspec.ValidationError:
                continue
            except msgspec.DecodeError as e:
                raise PrometheusUnavailable(f"Prometheus at {self.url} answered {answer.status_code}, not JSON") from e
            self._check(answer.status_code, body.status, body.error, body.error_type)
            return body.data.result if body.data is not None else []
        raise PrometheusUnavailable(f"Prometheus at {self.url} answered {answer.status_code}, not a query's result")

    def _check(self, status_code: int, status: object, error: object, error_type: object) -> None:
        if status_code == 503 or status != "success":
            said = error or f"status {status_code}"
            if status_code in (503, 504) or error_type in ("timeout", "canceled", "unavailable"):
                raise PrometheusUnavailable(f"Prometheus at {self.url}: {said}")
            raise PrometheusError(f"Prometheus refused the query: {said}")


_T = TypeVar("_T")


class _Vector(msgspec.Struct):
    value: tuple[float, float]
    metric: dict[str, str] = {}


class _Matrix(msgspec.Struct):
    values: list[tuple[float, float]] = []
    metric: dict[str, str] = {}


class _Data(msgspec.Struct, Generic[_T]):
    result: list[_T] = []


class _Body(msgspec.Struct, Generic[_T]):
    status: str | None = None
    error: str | None = None
    error_type: str | None = msgspec.field(default=None, name="errorType")
    data: _Data[_T] | None = None


class _Decoder(Protocol[_T]):
    def decode(self, buf: bytes, /) -> _Body[_T]: ...


class _Lax(Generic[_T]):
    """A decoder of values from their strings (``"0.25"``, ``"NaN"``, ``"-Inf"``)."""

    def __init__(self, item: type[_T]) -> None:
        self._decoder = msgspec.json.Decoder(_Body[item], strict=False)  # type: ignore[valid-type]

    def decode(self, buf: bytes, /) -> _Body[_T]:
        body: _Body[_T] = self._decoder.decode(buf)
        return body


class _Strings(Generic[_T]):
    """The slow way: values as strings, each read by ``float()`` (which knows ``"+Inf"``)."""

    def __init__(self, item: type[_T]) -> None:
        self._decoder = msgspec.json.Decoder(_Body[dict[str, Any]])
        self._item = item

    def decode(self, buf: bytes, /) -> _Body[_T]:
        raw = self._decoder.decode(buf)
        try:
            items = [self._read(r) for r in raw.data.result] if raw.data is not None else []
        except (KeyError, TypeError, ValueError) as e:
            raise msgspec.ValidationError(f"a series Prometheus sent cannot be read: {type(e).__name__}") from e
        return _Body(raw.status, raw.error, raw.error_type, _Data(items))

    def _read(self, raw: dict[str, Any]) -> _T:
        labels = {str(k): str(v) for k, v in (raw.get("metric") or {}).items()}
        if self._item is _Vector:
            t, v = raw["value"]
            return cast("_T", _Vector((float(t), float(v)), labels))
        return cast("_T", _Matrix([(float(t), float(v)) for t, v in raw.get("values", [])], labels))


_VECTOR: tuple[_Decoder[_Vector], _Decoder[_Vector]] = (_Lax(_Vector), _Strings(_Vector))
_MATRIX: tuple[_Decoder[_Matrix], _Decoder[_Matrix]] = (_Lax(_Matrix), _Strings(_Matrix))
