"""The edge load balancer (HAProxy) as the tests look at it: a group's route as HAProxy holds it, read
back through its runtime API, and a client that never retries."""

from __future__ import annotations

import httpx

from dockyard.adapters.edge.haproxy import HAProxyEdge


async def held_route(runtime: str, host: str) -> list[tuple[str, int]] | None:
    """``(ip:port, weight)`` of every server HAProxy sends ``host``'s requests to (those in maintenance,
    drained and waiting for deletion, left out), sorted; None when the host has no backend."""
    _, held = await HAProxyEdge(runtime).read()
    backend = held.hosts.get(host)
    if backend is None:
        return None
    return sorted((s.address, s.weight) for s in held.servers.get(backend, {}).values() if not s.maint)


def plain_client(base_url: str = "", **kwargs: object) -> httpx.Client:
    """An httpx client on keep-alive connections that never retries anything (a request that meets a
    closed connection is a failure, not a second try)."""
    return httpx.Client(base_url=base_url, transport=httpx.HTTPTransport(retries=0), timeout=10, **kwargs)  # type: ignore[arg-type]


def plain_async_client(base_url: str = "", **kwargs: object) -> httpx.AsyncClient:
    """:func:`plain_client`, async."""
    return httpx.AsyncClient(base_url=base_url, transport=httpx.AsyncHTTPTransport(retries=0), timeout=10, **kwargs)  # type: ignore[arg-type]
