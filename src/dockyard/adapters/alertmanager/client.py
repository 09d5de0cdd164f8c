"""The :class:`~dockyard.services.ports.Silencer` port on Alertmanager's API v2."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import httpx

from dockyard.adapters.alertmanager.errors import AlertmanagerError, AlertmanagerRefusedError
from dockyard.domain.silences import Matcher


class Alertmanager:
    def __init__(self, url: str, *, timeout: float = 10.0, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._base = url.rstrip("/") + "/api/v2"
        self._timeout = timeout
        self._transport = transport

    async def create(
        self, matchers: Sequence[Matcher], *, starts_at: dt.datetime, ends_at: dt.datetime, owner: str, reason: str
    ) -> str:
        body = {
            "matchers": [m.to_data() for m in matchers],
            "startsAt": starts_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
            "endsAt": ends_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
            "createdBy": owner,
            "comment": reason,
        }
        answer = await self._call("POST", "/silences", json=body)
        silence_id = answer.get("silenceID") if isinstance(answer, dict) else None
        if not isinstance(silence_id, str):
            raise AlertmanagerError("Alertmanager answered a silence without its id")
        return silence_id

    async def silences(self) -> list[dict[str, Any]]:
        answer = await self._call("GET", "/silences")
        if not isinstance(answer, list):
            raise AlertmanagerError("Alertmanager answered something other than a list of silences")
        return [s for s in answer if isinstance(s, dict)]

    async def expire(self, silence_id: str) -> None:
        await self._call("DELETE", f"/silence/{httpx.URL(path=silence_id).path}")

    async def _call(self, method: str, path: str, *, json: Any = None) -> Any:
        try:
            async with httpx.AsyncClient(timeout=self._timeout, transport=self._transport) as client:
                response = await client.request(method, self._base + path, json=json)
        except httpx.HTTPError as e:
            raise AlertmanagerError(f"cannot reach Alertmanager: {type(e).__name__}") from e
        if 400 <= response.status_code < 500:
            raise AlertmanagerRefusedError(
                f"Alertmanager refused: {response.text.strip()[:300]}", status=response.status_code
            )
        if response.status_code >= 300:
            raise AlertmanagerError(f"Alertmanager answered {response.status_code}")
        return response.json() if response.content else None
