"""The Caddy adapter's JSON for a group's route, and which admin API calls a sync makes (the real
Caddy is in tests/integration/test_edge.py)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from dockyard.adapters.edge.caddy import (
    FALLBACK_ID,
    CaddyEdge,
    EdgeError,
    EdgeUnavailable,
    caddy_route,
    digest_of,
    route_id,
)
from dockyard.domain.edge import EdgeRoute, EdgeWrite, HealthCheck, Upstream
from dockyard.domain.model import GroupPath

GROUP = GroupPath("shop", "web", "prod")
HOST = "prod.web.shop.dockyard.internal"
ROUTE = EdgeRoute(
    GROUP,
    HOST,
    (Upstream(1, "10.250.0.1:8080", 1), Upstream(1, "10.250.0.2:8080", 1), Upstream(2, "10.250.0.3:8080", 2)),
    HealthCheck("/ready", 8080),
)


def test_a_group_route_is_a_weighted_reverse_proxy_with_health_checks() -> None:
    route = caddy_route(ROUTE)
    assert route["@id"] == "dockyard-edge:prod.web.shop.dockyard.internal"
    assert route["match"] == [{"host": [HOST]}]
    assert route["terminal"] is True
    (proxy,) = route["handle"]
    assert proxy["handler"] == "reverse_proxy"
    assert proxy["upstreams"] == [{"dial": "10.250.0.1:8080"}, {"dial": "10.250.0.2:8080"}, {"dial": "10.250.0.3:8080"}]
    assert proxy["load_balancing"] == {
        "selection_policy": {"policy": "weighted_round_robin", "weights": [1, 1, 2]},
        "try_duration": "5s",
        "try_interval": "100ms",
    }
    assert proxy["health_checks"] == {
        "passive": {"fail_duration": "5s", "max_fails": 1},
        "active": {"uri": "/ready", "port": 8080, "interval": "1s", "timeout": "1s"},
    }


def test_no_health_path_only_passive_checks_and_no_instance_a_503() -> None:
    proxy = caddy_route(EdgeRoute(GROUP, HOST, ROUTE.upstreams, None))["handle"][0]
    assert proxy["health_checks"] == {"passive": {"fail_duration": "5s", "max_fails": 1}}
    empty = caddy_route(EdgeRoute(GROUP, HOST, (), None))["handle"][0]
    assert (empty["handler"], empty["status_code"]) == ("static_response", 503)
    assert "shop/web/prod" in empty["body"]


class FakeAdmin:
    """Caddy's admin API as far as the adapter's call sequence goes: records calls, serves the fallback."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.fallback: dict[str, Any] | None = None
        self.routes: list[dict[str, Any]] = []
        self.down = False

    def handler(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        path, method = request.url.path, request.method
        self.calls.append((method, path))
        if method == "GET" and path == f"/id/{FALLBACK_ID}":
            if self.fallback is None:
                return httpx.Response(404, json={"error": "unknown object ID 'dockyard-edge-fallback'"})
            return httpx.Response(200, json=self.fallback)
        if method == "GET" and path.endswith("/routes"):
            return httpx.Response(200, json=self.routes)
        if method == "GET":
            return httpx.Response(200, json={"listen": [":8480"], "routes": self.routes})
        if method == "PATCH" and path.endswith("/routes"):
            self.routes = json.loads(request.content)
            self.fallback = self.routes[-1]
        if method == "PATCH" and path == f"/id/{FALLBACK_ID}":
            self.fallback = json.loads(request.content)
        return httpx.Response(200)


def edge(admin: FakeAdmin, verify_every: float = 0.0) -> CaddyEdge:
    return CaddyEdge("http://admin", verify_every=verify_every, transport=httpx.MockTransport(admin.handler))


def writes(admin: FakeAdmin) -> list[tuple[str, str]]:
    return [c for c in admin.calls if c[0] != "GET"]


async def test_first_sync_writes_all_then_one_change_by_id_and_several_at_once() -> None:
    admin = FakeAdmin()
    caddy = edge(admin)
    assert await caddy.apply([ROUTE]) == EdgeWrite(full=True)
    assert writes(admin) == [("PATCH", "/config/apps/http/servers/edge/routes")]
    admin.calls.clear()
    assert await caddy.apply([ROUTE]) == EdgeWrite()  # nothing changed: one look, no write
    assert admin.calls == [("GET", f"/id/{FALLBACK_ID}")]
    admin.calls.clear()
    moved = EdgeRoute(GROUP, HOST, ROUTE.upstreams[:2], None)
    assert await caddy.apply([moved]) == EdgeWrite(changed=1)  # one route: by its @id, one reload
    assert writes(admin) == [("PATCH", f"/id/{route_id(HOST)}")]
    admin.calls.clear()
    other = EdgeRoute(GroupPath("shop", "api", "prod"), "prod.api.shop.dockyard.internal", ROUTE.upstreams, None)
    assert await caddy.apply([other]) == EdgeWrite(full=True)  # two changes: one write of the whole list
    assert writes(admin) == [("PATCH", "/config/apps/http/servers/edge/routes")]
    admin.calls.clear()
    assert await caddy.apply([other, moved]) == EdgeWrite(added=1)
    assert writes(admin) == [("PUT", "/config/apps/http/servers/edge/routes/2")]
    admin.calls.clear()
    assert await caddy.apply([moved]) == EdgeWrite(removed=1)
    assert writes(admin) == [("DELETE", f"/id/{route_id(other.host)}")]


async def test_routes_changed_behind_its_back_are_written_whole_at_the_next_comparison() -> None:
    admin = FakeAdmin()
    caddy = CaddyEdge("http://admin", verify_every=0, compare_every=0, transport=httpx.MockTransport(admin.handler))
    await caddy.apply([ROUTE])
    admin.routes = [admin.routes[0], admin.routes[-1]]  # another writer dropped the group's route
    assert await caddy.apply([ROUTE]) == EdgeWrite(full=True)


async def test_a_restarted_caddy_gets_everything_again() -> None:
    admin = FakeAdmin()
    caddy = edge(admin)
    await caddy.apply([ROUTE])
    admin.fallback = None  # restarted with its start-up configuration
    admin.calls.clear()
    assert await caddy.apply([ROUTE]) == EdgeWrite(full=True)
    assert ("PATCH", "/config/apps/http/servers/edge/routes") in admin.calls


async def test_what_another_replica_wrote_the_same_is_left_alone() -> None:
    admin = FakeAdmin()
    admin.fallback = {"handle": [{"headers": {"X-Dockyard-Routes": [digest_of([caddy_route(ROUTE)])]}}]}
    assert await edge(admin).apply([ROUTE]) == EdgeWrite()
    assert writes(admin) == []


async def test_unchanged_routes_are_verified_at_most_every_verify_every() -> None:
    admin = FakeAdmin()
    caddy = edge(admin, verify_every=60.0)
    await caddy.apply([ROUTE])
    admin.calls.clear()
    assert await caddy.apply([ROUTE]) == EdgeWrite()
    assert admin.calls == []


async def test_errors() -> None:
    admin = FakeAdmin()
    admin.down = True
    with pytest.raises(EdgeUnavailable, match="cannot be reached"):
        await edge(admin).apply([ROUTE])

    def refuse(request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path.startswith("/id/"):
            return httpx.Response(404, json={"error": "unknown object ID"})
        if request.method == "GET":
            return httpx.Response(200, json={"routes": []})
        return httpx.Response(500, json={"error": "loading new config: bad weights"})  # Caddy's refusal

    refusing = CaddyEdge("http://admin", transport=httpx.MockTransport(refuse))
    with pytest.raises(EdgeError, match="bad weights") as raised:
        await refusing.apply([ROUTE])
    assert not isinstance(raised.value, EdgeUnavailable)

    def no_server(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"error": "invalid traversal path at: config/apps/http/servers/edge"})

    with pytest.raises(EdgeError, match="no HTTP server 'edge'"):
        await CaddyEdge("http://admin", transport=httpx.MockTransport(no_server)).apply([ROUTE])
