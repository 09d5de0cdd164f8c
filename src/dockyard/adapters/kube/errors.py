"""Errors of the Kubernetes adapter; services never see lightkube's or httpx's exceptions.

Each is also the domain's failure (``dockyard.domain.failures``) named on its right, which services catch.

KubeError                  (ClusterFailure)
├── KubeUnavailableError   the apiserver cannot be reached or answered 5xx (ClusterUnavailable)
└── KubeApiError           the apiserver answered 4xx, ``status`` and ``reason`` kept (ClusterRefused)
    ├── KubeNotFoundError  404 (ClusterNotFound)
    └── KubeConflictError  409: already exists, or a write lost an optimistic-lock race (ClusterConflict)
"""

from __future__ import annotations

from dockyard.domain.failures import (
    ClusterConflict,
    ClusterFailure,
    ClusterNotFound,
    ClusterRefused,
    ClusterUnavailable,
)


class KubeError(ClusterFailure):
    """Base of every Kubernetes adapter error."""


class KubeUnavailableError(KubeError, ClusterUnavailable):
    pass


class KubeApiError(KubeError, ClusterRefused):
    pass


class KubeNotFoundError(KubeApiError, ClusterNotFound):
    pass


class KubeConflictError(KubeApiError, ClusterConflict):
    pass
