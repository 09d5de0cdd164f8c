"""Clusters: registered Kubernetes API endpoints, labelled by IDC, provider and region."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dockyard.domain.errors import InvalidInput

PROVIDERS = ("idc", "cloud")
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_LABEL_KEYS = ("idc", "provider", "region")


@dataclass(frozen=True)
class Cluster:
    """A Kubernetes cluster Dockyard deploys to. ``kubeconfig`` is a path on the Dockyard host, or
    ``in-cluster`` for the cluster Dockyard itself runs in (its pod's service account)."""

    name: str
    kubeconfig: str
    labels: dict[str, str] = field(default_factory=dict)


def validate_cluster(name: str, kubeconfig: str, labels: dict[str, str]) -> Cluster:
    """Check a cluster's fields; raises :class:`InvalidInput` naming the first bad one."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidInput("name", f"cluster name {name!r} must be a DNS label (a-z, 0-9, '-', at most 63)")
    if not kubeconfig:
        raise InvalidInput("kubeconfig", "kubeconfig path must not be empty")
    for key in labels:
        if key not in _LABEL_KEYS:
            raise InvalidInput(f"labels.{key}", f"unknown cluster label {key!r}; known: {', '.join(_LABEL_KEYS)}")
    provider = labels.get("provider")
    if provider is not None and provider not in PROVIDERS:
        raise InvalidInput("labels.provider", f"provider must be one of {', '.join(PROVIDERS)} (got {provider!r})")
    return Cluster(name=name, kubeconfig=kubeconfig, labels=dict(labels))
