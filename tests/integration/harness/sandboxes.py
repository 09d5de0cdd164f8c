"""The sandbox clusters the integration tests share, as the fixtures hand them out, and free ports."""

from __future__ import annotations

import socket
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from dockyard.sandbox.base_image import base_image, registry_address
from dockyard.sandbox.layout import Layout, Ports

SANDBOX_NODES = 20  # the main sandbox: 20 KWOK nodes in the default topology's pools
SECOND_SANDBOX_NODES = 6  # the second, for the many-cluster tests: one IDC, idc-b


def free_port() -> int:
    """A loopback port nothing listens on right now (the OS's choice: never a default port)."""
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class Sandbox:
    layout: Layout
    ports: Ports

    @property
    def kubeconfig(self) -> Path:
        return self.layout.kubeconfig

    @property
    def registry(self) -> str:
        """The sandbox registry's ``host:port`` (plain HTTP on loopback)."""
        return registry_address(self.ports)

    @property
    def base_image(self) -> str:
        """The busybox base image in the sandbox registry, for test Dockerfiles' FROM."""
        return base_image(self.ports)
