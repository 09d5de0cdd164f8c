"""The edge load balancer: Caddy, configured only through its admin API (never a file, never a restart).

Dockyard owns the ``routes`` of one HTTP server of Caddy's (``server``, ``edge`` in the sandbox):

0. ``dockyard-edge-host``: sets the request's Host to its host name without the port, so Caddy's
   per-host metrics label a group's requests with its global name however the client wrote the Host;
1. one route per group, ``@id`` ``dockyard-edge:<global name>``, matched by Host (:func:`caddy_route`):
   ``reverse_proxy`` with ``weighted_round_robin`` over the instances, active health checks on the
   readiness path (every second), passive ones (an upstream that failed is left alone 5 s), and
   ``try_duration`` 5 s so a request whose upstream refused or went away is tried on another; with no
   instance, a 503;
2. ``dockyard-edge-fallback``: a 404 for any other host. Its ``X-Dockyard-Routes`` header holds the
   digest of the group routes of the last *whole* write: :meth:`CaddyEdge.apply` reads that one small
   route to know whether Caddy still holds the configuration it wrote (a restarted Caddy has lost
   it; one another replica wrote whole with the same routes needs nothing).

Contract of :meth:`CaddyEdge.apply`: idempotent, and as few writes as can be, because every admin
API write makes Caddy reload its whole configuration, which costs the odd request in flight (see
docs/edge.md). While Caddy holds what this adapter wrote, one group route that changed, appeared or
went is written by its ``@id`` (``PATCH /id/…``, ``DELETE /id/…``, a ``PUT`` into the routes list);
several are written as one whole list; anything else (a restart, a foreign write, a failed write) is
written whole. Nothing is written, and at most one small ``GET`` sent every ``verify_every`` seconds,
while nothing changed; every ``compare_every`` seconds the group routes are read whole and compared.

Errors (each also the domain's failure of the same name)::

    EdgeError            Caddy refused what was asked (the message has its answer), or has no
    │                    such HTTP server
    └── EdgeUnavailable  the admin API cannot be reached, or answered 502, 503 or 504
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Sequence
from typing import Any

import httpx

from dockyard.domain import failures
from dockyard.domain.edge import EdgeRoute, EdgeWrite

HOST_ID = "dockyard-edge-host"
FALLBACK_ID = "dockyard-edge-fallback"
ROUTE_PREFIX = "dockyard-edge:"
DIGEST_HEADER = "X-Dockyard-Routes"
TRY_DURATION = "5s"
TRY_INTERVAL = "100ms"
HEALTH_INTERVAL = "1s"
HEALTH_TIMEOUT = "1s"
FAIL_DURATION = "5s"


class EdgeError(failures.EdgeFailure):
    pass


class EdgeUnavailable(EdgeError, failures.EdgeUnavailable):
    pass


def route_id(host: str) -> str:
    return ROUTE_PREFIX + host


def caddy_route(route: EdgeRoute) -> dict[str, Any]:
    """The Caddy JSON of a group's route (see the module docstring)."""
    handle: dict[str, Any]
    if not route.upstreams:
        handle = {
            "handler": "static_response",
            "status_code": 503,
            "headers": {"Retry-After": ["1"]},
            "body": f"no instance of {route.group} is ready\n",
        }
    else:
        health: dict[str, Any] = {"passive": {"fail_duration": FAIL_DURATION, "max_fails": 1}}
        if route.health is not None:
            health["active"] = {
                "uri": route.health.path,
                "port": route.health.port,
                "interval": HEALTH_INTERVAL,
                "timeout": HEALTH_TIMEOUT,
            }
        handle = {
            "handler": "reverse_proxy",
            "upstreams": [{"dial": u.address} for u in route.upstreams],
            "load_balancing": {
                "selection_policy": {"policy": "weighted_round_robin", "weights": [u.weight for u in route.upstreams]},
                "try_duration": TRY_DURATION,
                "try_interval": TRY_INTERVAL,
            },
            "health_checks": health,
        }
    return {"@id": route_id(route.host), "match": [{"host": [route.host]}], "handle": [handle], "terminal": True}


HOST_ROUTE: dict[str, Any] = {
    "@id": HOST_ID,
    "handle": [{"handler": "headers", "request": {"set": {"Host": ["{http.request.host}"]}}}],
}


def fallback_route(digest: str) -> dict[str, Any]:
    return {
        "@id": FALLBACK_ID,
        "handle": [
            {
                "handler": "static_response",
                "status_code": 404,
                "headers": {DIGEST_HEADER: [digest]},
                "body": "no group answers to this host\n",
            }
        ],
    }


def digest_of(routes: Sequence[dict[str, Any]]) -> str:
    """A digest of group routes, independent of their order."""
    ordered = sorted(routes, key=lambda r: str(r["@id"]))
    return hashlib.sha256(json.dumps(ordered, sort_keys=True).encode()).hexdigest()[:32]


class CaddyEdge:
    """Caddy's admin API at ``admin_url`` (e.g. ``http://127.0.0.1:2019``), routes of HTTP server
    ``server``. Used by one sync loop at a time (calls are serialised)."""

    def __init__(
        self,
        admin_url: str,
        *,
        server: str = "edge",
        timeout: float = 5.0,
        verify_every: float = 1.0,
        compare_every: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._http = httpx.AsyncClient(base_url=admin_url.rstrip("/"), timeout=timeout, transport=transport)
        self._server_path = f"/config/apps/http/servers/{server}"
        self._routes_path = f"{self._server_path}/routes"
        self._server = server
        self._verify_every = verify_every
        self._held: dict[str, dict[str, Any]] | None = None  # what Caddy holds as last written, by @id
        self._digest: str | None = None  # of the group routes in _held
        self._marker: str | None = None  # the fallback's digest header after this adapter's last whole write
        self._checked = self._compared = float("-inf")
        self._compare_every = compare_every
        self._lock = asyncio.Lock()

    async def apply(self, routes: Sequence[EdgeRoute]) -> EdgeWrite:
        """Make Caddy hold exactly ``routes`` (one per group); see the module docstring."""
        async with self._lock:
            wanted = {route_id(r.host): caddy_route(r) for r in sorted(routes, key=lambda r: r.host)}
            digest = digest_of(list(wanted.values()))
            now = time.monotonic()
            if digest == self._digest and now - self._checked < self._verify_every:
                return EdgeWrite()
            marker = await self._marker_held()
            self._checked = now
            ours = self._held is not None and marker is not None and marker == self._marker
            differs = False  # Caddy's routes read and found to differ from what was written
            if ours and now - self._compared >= self._compare_every:
                ours = await self._still_held()
                differs, self._compared = not ours, now
            if ours and digest == self._digest:
                return EdgeWrite()
            if not ours and not differs and marker is not None and marker == digest:
                self._held, self._digest, self._marker = wanted, digest, marker  # written whole by another
                return EdgeWrite()
            if ours:
                try:
                    written = await self._patch(wanted, digest)
                except EdgeError:
                    written = None  # unknown now: written whole below
                if written is not None:
                    return written
            return await self._replace(wanted, digest)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _marker_held(self) -> str | None:
        answer = await self._send("GET", f"/id/{FALLBACK_ID}", missing_ok=True)
        if answer is None:
            return None
        try:
            headers = answer.json()["handle"][0]["headers"]
            return str(headers[DIGEST_HEADER][0])
        except (ValueError, LookupError, TypeError):
            return None

    async def _still_held(self) -> bool:
        """Whether Caddy's group routes are still exactly those this adapter last wrote (another
        replica's writes between two of ours would make them differ)."""
        answer = await self._send("GET", self._routes_path, missing_ok=True)
        routes = answer.json() if answer is not None else None
        if not isinstance(routes, list):
            return False
        held = {r["@id"]: r for r in routes if isinstance(r, dict) and str(r.get("@id", "")).startswith(ROUTE_PREFIX)}
        return held == self._held

    async def _patch(self, wanted: dict[str, dict[str, Any]], digest: str) -> EdgeWrite | None:
        """One group route changed, added or removed: that one written by its ``@id`` (one reload);
        None when more changed (one write of the whole list is one reload, and several are several)."""
        assert self._held is not None
        held = self._held
        removed = [i for i in held if i not in wanted]
        changed = [i for i in wanted if i in held and held[i] != wanted[i]]
        added = [i for i in wanted if i not in held]
        if len(removed) + len(changed) + len(added) != 1:
            return None
        if removed:
            await self._send("DELETE", f"/id/{removed[0]}")
        elif changed:
            await self._send("PATCH", f"/id/{changed[0]}", wanted[changed[0]])
        else:  # after the host route and the groups: before the fallback
            await self._send("PUT", f"{self._routes_path}/{1 + len(held)}", wanted[added[0]])
        self._held, self._digest = wanted, digest
        return EdgeWrite(added=len(added), changed=len(changed), removed=len(removed))

    async def _replace(self, wanted: dict[str, dict[str, Any]], digest: str) -> EdgeWrite:
        server = await self._send("GET", self._server_path, missing_ok=True)
        if server is None:
            raise EdgeError(f"the edge load balancer has no HTTP server {self._server!r} for Dockyard's routes")
        body = [HOST_ROUTE, *wanted.values(), fallback_route(digest)]
        has_routes = isinstance(server.json(), dict) and server.json().get("routes") is not None
        await self._send("PATCH" if has_routes else "PUT", self._routes_path, body)
        self._held, self._digest, self._marker = wanted, digest, digest
        self._compared = time.monotonic()
        return EdgeWrite(full=True)

    async def _send(
        self, method: str, path: str, body: object = None, *, missing_ok: bool = False
    ) -> httpx.Response | None:
        """The answer to one admin API call; None for a missing object when ``missing_ok``. Caddy
        answers 404 for an unknown ``@id``, 400 or 500 "invalid traversal path" for a missing config
        path, 500 for a configuration it cannot load (a refusal, not an outage)."""
        try:
            answer = await self._http.request(method, path, json=body)
        except httpx.TransportError as e:
            raise EdgeUnavailable(f"the edge load balancer's admin API cannot be reached: {e}") from e
        missing = answer.status_code == 404 or "invalid traversal path" in answer.text
        if answer.status_code < 400 and not (method == "GET" and answer.text.strip() == "null"):
            return answer
        if missing_ok and (missing or answer.status_code < 400):
            return None
        if answer.status_code in (502, 503, 504):
            raise EdgeUnavailable(f"the edge load balancer answered {answer.status_code} to {method} {path}")
        raise EdgeError(f"the edge load balancer refused {method} {path}: {_reason(answer)}")


def _reason(answer: httpx.Response) -> str:
    try:
        return str(answer.json().get("error", answer.status_code))[:500]
    except ValueError:
        return f"{answer.status_code} {answer.text[:200]}"
