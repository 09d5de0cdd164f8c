"""The host's network as the sandbox's real parts see it.

A real node's kubelet refuses a loopback node IP, and pods cannot reach the host's loopback, so what
pods must reach (the kubelet, the cluster DNS) listens on the host's primary address as well.
"""

from __future__ import annotations

import socket

from dockyard.sandbox.errors import SandboxError

# Never sent: connecting a UDP socket only asks the kernel which source address it would route from.
_PROBE = ("203.0.113.1", 9)  # TEST-NET-3: routed by the default route, never answered


def node_ip() -> str:
    """The host's primary IPv4 address (the source of its default route); :class:`SandboxError` when
    the host has none but loopback."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(_PROBE)
        except OSError as e:
            raise SandboxError(f"cannot tell this host's IPv4 address (no route): {e}") from e
        address: str = sock.getsockname()[0]
    if address.startswith("127.") or address == "0.0.0.0":  # noqa: S104 - a check, not a bind
        raise SandboxError("this host has no IPv4 address but loopback: a real node needs one")
    return address
