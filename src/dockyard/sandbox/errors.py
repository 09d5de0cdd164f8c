"""Errors of the local sandbox cluster.

SandboxError
├── ToolchainError      no usable Go toolchain to build the binaries
├── BuildError          a binary build failed (carries the tail of its log)
├── TopologyError       the topology file is unreadable or invalid (names the field)
├── PortInUseError      a component's port is taken (names the port and the component)
└── ComponentError      a component did not start or become healthy
"""

from __future__ import annotations


class SandboxError(Exception):
    """Base of every sandbox error; ``str(err)`` is one line meant for the user."""


class ToolchainError(SandboxError):
    pass


class BuildError(SandboxError):
    def __init__(self, message: str, *, log_tail: str = "") -> None:
        super().__init__(message)
        self.log_tail = log_tail


class TopologyError(SandboxError):
    pass


class PortInUseError(SandboxError):
    pass


class ComponentError(SandboxError):
    pass
