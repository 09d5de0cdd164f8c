"""A client of Prometheus' HTTP API returning the domain's plain records (:mod:`dockyard.domain.metrics`)."""

from __future__ import annotations

from typing import Any

import httpx

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
        data = await self._get("/api/v1/query", {"query": promql, "time": f"{at:.3f}"})
        return [_series(item, instant=True) for item in data.get("result", [])]

    async def query_range(self, promql: str, *, start: float, end: float, step: float) -> list[Series]:
        """``promql`` from ``start`` to ``end`` every ``step`` seconds."""
        params = {"query": promql, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"}
        data = await self._get("/api/v1/query_range", params)
        return [_series(item, instant=False) for item in data.get("result", [])]

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
        try:
            answer = await self._http.get(path, params=params)
        except httpx.HTTPError as e:
            raise PrometheusUnavailable(f"Prometheus at {self.url} cannot be reached: {type(e).__name__}") from e
        if answer.status_code >= 500 and answer.status_code != 503:
            raise PrometheusUnavailable(f"Prometheus at {self.url} answered {answer.status_code}")
        try:
            body = answer.json()
        except ValueError as e:
            raise PrometheusUnavailable(f"Prometheus at {self.url} answered {answer.status_code}, not JSON") from e
        if answer.status_code == 503 or body.get("status") != "success":
            error = body.get("error") or f"status {answer.status_code}"
            if answer.status_code in (503, 504) or body.get("errorType") in ("timeout", "canceled", "unavailable"):
                raise PrometheusUnavailable(f"Prometheus at {self.url}: {error}")
            raise PrometheusError(f"Prometheus refused the query: {error}")
        data: dict[str, Any] = body.get("data") or {}
        return data


def _series(item: dict[str, Any], *, instant: bool) -> Series:
    labels = {str(k): str(v) for k, v in (item.get("metric") or {}).items()}
    raw = [item["value"]] if instant else item.get("values", [])
    return Series(labels=labels, points=[(float(t), float(v)) for t, v in raw])
