"""A client of VictoriaLogs' HTTP API: stores records, answers LogsQL queries as plain rows.

Contract: :meth:`VictoriaLogs.insert` returns once the store accepted every record (2xx) — they are
searchable within about a second, at once after :meth:`flush`; :meth:`query` returns the rows of a
LogsQL query (each a mapping of field to text) in the store's order. Every error is one of
:mod:`dockyard.adapters.logstore.errors`, the ``httpx`` error kept as the cause.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import httpx

from dockyard.adapters.logstore.errors import LogStoreError, LogStoreUnavailable

# Not a form: VictoriaLogs parses a form body as the request's parameters and then stores nothing.
_JSON_LINES = {"Content-Type": "application/stream+json"}


class VictoriaLogs:
    """VictoriaLogs at ``url``; one connection pool for the process (closed by :meth:`aclose`).
    ``stream_fields``: the fields that make a record's stream (the shipper's: one per instance)."""

    def __init__(
        self,
        url: str,
        *,
        stream_fields: Sequence[str],
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self._stream_fields = ",".join(stream_fields)
        self._http = httpx.AsyncClient(base_url=self.url, timeout=timeout, transport=transport)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def insert(self, records: Sequence[Mapping[str, str]]) -> None:
        """Store ``records`` (each with ``_time`` RFC 3339 and ``_msg``) as one request."""
        if not records:
            return
        body = "".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in records)
        params = {"_stream_fields": self._stream_fields, "_time_field": "_time", "_msg_field": "_msg"}
        await self._send("POST", "/insert/jsonline", params=params, content=body.encode(), headers=_JSON_LINES)

    async def query(self, logsql: str, *, params: Mapping[str, str] | None = None) -> list[dict[str, str]]:
        """The rows of ``logsql`` (``params``: the store's ``start``, ``end``…)."""
        answer = await self._send("POST", "/select/logsql/query", data={"query": logsql, **(params or {})})
        rows: list[dict[str, str]] = []
        for raw in answer.text.splitlines():
            if not raw.strip():
                continue
            try:
                row = json.loads(raw)
            except ValueError as e:
                raise LogStoreError(f"the log store at {self.url} answered a line that is not JSON") from e
            if isinstance(row, dict):
                rows.append({str(k): str(v) for k, v in row.items()})
        return rows

    async def flush(self) -> None:
        """Make every record stored so far searchable now."""
        await self._send("GET", "/internal/force_flush")

    async def ready(self) -> bool:
        """True if the store answers its health check."""
        try:
            return (await self._http.get("/health")).status_code == 200
        except httpx.HTTPError:
            return False

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        try:
            answer = await self._http.request(method, path, params=params, data=data, content=content, headers=headers)
        except httpx.HTTPError as e:
            raise LogStoreUnavailable(f"the log store at {self.url} cannot be reached: {type(e).__name__}") from e
        if answer.status_code >= 500:
            raise LogStoreUnavailable(f"the log store at {self.url} answered {answer.status_code}")
        if answer.status_code >= 400:
            raise LogStoreError(f"the log store refused {path} ({answer.status_code}): {answer.text.strip()[:300]}")
        return answer
