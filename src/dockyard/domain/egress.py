"""Where Dockyard may send what a user configured (a notification channel's webhook): not into the
platform's own networks (SSRF).

Contract of :func:`internal_target`: ``addresses`` are what the target's host resolves to (and the host
itself when it is an address). The host is refused when it names this machine (``localhost``), or when
any of its addresses is not a global one — loopback, link-local (169.254/16, fe80::/10, the clouds'
metadata service), private (10/8, 172.16/12, 192.168/16, fc00::/7), shared (100.64/10), unspecified,
multicast or reserved — unless it lies in one of ``allowed_networks`` (an administrator's setting, e.g.
an in-house robot's 10.1.2.0/24, or 127.0.0.0/8 for tests). An IPv4-mapped IPv6 address is judged as
its IPv4 one. A host that does not resolve is not refused here (sending to it fails by itself).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

_LOCAL_NAMES = ("localhost", "localhost.localdomain")


def check_networks(field: str, networks: Iterable[str]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """``networks`` parsed (``10.0.0.0/8``, ``::1``); ValueError naming ``field`` and the bad one."""
    out = []
    for raw in networks:
        try:
            out.append(ipaddress.ip_network(raw, strict=False))
        except ValueError as e:
            raise ValueError(f"{field}: {raw!r} is not a network ({e})") from e
    return tuple(out)


def internal_target(host: str, addresses: Iterable[str], *, allowed_networks: Sequence[str]) -> str | None:
    """Why ``host`` may not be sent to (see the module's docstring), or None."""
    name = host.lower().rstrip(".")
    allowed = check_networks("allowed_networks", allowed_networks)
    if name in _LOCAL_NAMES or name.endswith(".localhost"):
        loopback = ipaddress.ip_address("127.0.0.1")
        if not any(loopback in n for n in allowed if n.version == 4):
            return f"{host!r} is this machine (loopback)"
    for raw in addresses:
        try:
            address = ipaddress.ip_address(raw.split("%", 1)[0])
        except ValueError:
            continue
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if address.is_global and not address.is_multicast:
            continue
        if any(address.version == n.version and address in n for n in allowed):
            continue
        return f"{host!r} resolves to {address}, an internal address (loopback, link-local, private or reserved)"
    return None
