"""What the watch caches keep of a cluster's workloads, as services read it: each instance (pod) of a
group, and each group's Deployment. Slim, immutable records; the caches (``adapters/kube/watch.py``)
build them from the apiserver's objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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

    @property
    def key(self) -> GroupKey:
        return (self.namespace, self.app, self.group)


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
