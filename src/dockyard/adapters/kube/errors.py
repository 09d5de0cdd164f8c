"""Errors of the Kubernetes adapter; services never see lightkube's or httpx's exceptions.

KubeError
├── KubeUnavailableError   the apiserver cannot be reached or answered 5xx
└── KubeApiError           the apiserver answered 4xx (``status`` and ``reason`` kept)
    ├── KubeNotFoundError  404
    └── KubeConflictError  409 (already exists, or a write lost an optimistic-lock race)
"""

from __future__ import annotations


class KubeError(Exception):
    """Base of every Kubernetes adapter error."""


class KubeUnavailableError(KubeError):
    pass


class KubeApiError(KubeError):
    def __init__(self, message: str, *, status: int, reason: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


class KubeNotFoundError(KubeApiError):
    pass


class KubeConflictError(KubeApiError):
    pass
