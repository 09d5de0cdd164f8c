"""What Dockyard sees of a cluster live, as services read it: whether its watches are connected, each
instance (pod) of a group, each group's Deployment, and its capacity (nodes and the pods' usage).

Slim, immutable records; the watch caches (``adapters/kube/watch.py``, ``adapters/kube/capacity.py``)
build them from the apiserver's objects and ``adapters/kube/live.py`` keeps one set per cluster."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from dockyard.domain.capacity import NodeInfo
from dockyard.domain.fit import Pods

GroupKey = tuple[str, str, str]  # namespace (= system), app, group


@dataclass(frozen=True, slots=True)
class PodRecord:
    """What Dockyard shows of an instance."""

    namespace: str
    name: str
    uid: str
    app: str
    group: str
    version: str
    phase: str
    ready: bool
    restarts: int
    pod_ip: str
    host_ip: str
    node: str
    created: float  # Unix time
    reason: str  # why it is not running well: a waiting/terminated reason, or the scheduler's
    deleting: bool
    container_id: str = ""  # the runtime's id of its (first) container, e.g. containerd://<64 hex>; KWOK: ""
    metrics_port: int = 0  # its container port named ``metrics`` (domain/versions.METRICS_PORT); 0: none

    @property
    def key(self) -> GroupKey:
        return (self.namespace, self.app, self.group)


@dataclass(frozen=True, slots=True)
class PlacedInstance:
    """An instance with where it runs: the cluster's name and its ``idc`` label ("" if it has none)."""

    cluster: str
    idc: str
    pod: PodRecord


@dataclass(frozen=True, slots=True)
class WatchHealth:
    """A cluster's watch caches: ``connected``, and ``silence`` seconds since any of them last heard
    from the apiserver (a list, an event or a bookmark; infinite before the first)."""

    cluster: str
    connected: bool
    silence: float


@dataclass(frozen=True, slots=True)
class DeploymentRecord:
    """A group's Deployment: its rollout counters, and its live ``spec`` as plain JSON data (read-only)."""

    namespace: str
    name: str
    app: str
    group: str
    version: str  # the pod template's dockyard.io/version
    generation: int
    observed_generation: int  # the controller has acted on the spec when this equals generation
    replicas: int  # wanted (spec)
    ready: int
    updated: int  # pods of the current template
    available: int
    total: int  # pods of any template (status.replicas)
    spec: dict[str, Any] = field(hash=False, repr=False)


@dataclass(frozen=True)
class Connection:
    """Whether a cluster's watches are live; ``detail`` says why not (never a credential)."""

    connected: bool
    detail: str


class Usages(Pods, Protocol):
    """Every pod's resource usage in one cluster, as the usage watch cache indexes it (live: read it
    without awaiting)."""

    def __len__(self) -> int:
        """How many pods."""

    def pending(self) -> int:
        """How many pods no node holds yet."""


@dataclass(frozen=True)
class Capacity:
    """A cluster's nodes and its pods' usage as last seen (``usage`` is live: read it without awaiting)."""

    nodes: list[NodeInfo]
    usage: Usages
    synced: bool  # both caches made their first list
