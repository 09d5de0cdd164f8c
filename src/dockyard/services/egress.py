"""Refusing to send into the platform's own networks (SSRF): a webhook channel's host is resolved here
and judged by :func:`dockyard.domain.egress.internal_target`, when the channel is made and again before
every send (a name may resolve elsewhere later)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from dockyard.domain.egress import internal_target
from dockyard.services.platform import Platform

RESOLVE_TIMEOUT = 5.0


async def webhook_problem(platform: Platform, url: str) -> str | None:
    """Why ``url`` may not be sent to, or None (see the module's docstring)."""
    host = urlsplit(url).hostname or ""
    if not host:
        return None
    return internal_target(
        host, await addresses(host), allowed_networks=platform.config.alerts.channel_allowed_networks
    )


async def addresses(host: str) -> list[str]:
    """What ``host`` resolves to (itself when it is an address); [] if it does not resolve."""
    try:
        return [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(loop.getaddrinfo(host, None, type=socket.SOCK_STREAM), timeout=RESOLVE_TIMEOUT)
    except (OSError, TimeoutError):
        return []
    return [str(info[4][0]) for info in infos]
