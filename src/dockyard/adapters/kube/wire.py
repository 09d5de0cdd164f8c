"""The fields of the Kubernetes objects' JSON that the watch caches read, as msgspec structs.

Decoding into these structs reads an object's bytes once and builds only the declared fields: every
other field (a pod's managedFields, its volumes, most of its status...) is skipped without being
made into Python objects, so a watch event costs a scan of its bytes, not a full model. Each field
may be absent or ``null`` in the JSON: absent or null reads as the default (``None``, ``0``, ``""``).
Unknown fields are ignored, so a newer apiserver's additions decode as well.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Generic, TypeVar

import msgspec

T = TypeVar("T")


class Status(msgspec.Struct):
    """A ``Status`` the apiserver sends as a watch ``ERROR`` event (410 Gone: history compacted)."""

    code: int | None = None
    reason: str | None = None
    message: str | None = None


class ListMeta(msgspec.Struct):
    resourceVersion: str | None = None
    continue_: str | None = msgspec.field(name="continue", default=None)


class Page(msgspec.Struct, Generic[T]):
    """One page of a list (``?limit=``): its items and where to go on."""

    items: list[T] | None = None
    metadata: ListMeta | None = None


class Event(msgspec.Struct, Generic[T]):
    """One line of a watch stream."""

    type: str
    object: T


class Meta(msgspec.Struct):
    name: str | None = None
    namespace: str | None = None
    uid: str | None = None
    resourceVersion: str | None = None
    generation: int | None = None
    labels: dict[str, str] | None = None
    creationTimestamp: dt.datetime | None = None
    deletionTimestamp: dt.datetime | None = None


class Condition(msgspec.Struct):
    type: str | None = None
    status: str | None = None
    reason: str | None = None
    message: str | None = None


class Reason(msgspec.Struct):
    reason: str | None = None


class Running(msgspec.Struct):
    startedAt: str | None = None


class ContainerState(msgspec.Struct):
    waiting: Reason | None = None
    terminated: Reason | None = None
    running: Running | None = None


class ContainerStatus(msgspec.Struct):
    state: ContainerState | None = None
    ready: bool | None = None
    restartCount: int | None = None
    containerID: str | None = None


class Resources(msgspec.Struct):
    requests: dict[str, Any] | None = None


class ContainerPort(msgspec.Struct):
    name: str | None = None
    containerPort: int | None = None


class Container(msgspec.Struct):
    resources: Resources | None = None
    ports: list[ContainerPort] | None = None


class Selector(msgspec.Struct):
    matchLabels: dict[str, str] | None = None


class AffinityTerm(msgspec.Struct):
    topologyKey: str | None = None
    labelSelector: Selector | None = None


class PodAntiAffinity(msgspec.Struct):
    requiredDuringSchedulingIgnoredDuringExecution: list[AffinityTerm] | None = None


class Affinity(msgspec.Struct):
    podAntiAffinity: PodAntiAffinity | None = None


class PodSpec(msgspec.Struct):
    nodeName: str | None = None
    priority: int | None = None
    containers: list[Container] | None = None
    initContainers: list[Container] | None = None
    affinity: Affinity | None = None


class PodStatus(msgspec.Struct):
    phase: str | None = None
    podIP: str | None = None
    hostIP: str | None = None
    conditions: list[Condition] | None = None
    containerStatuses: list[ContainerStatus] | None = None


class Pod(msgspec.Struct):
    metadata: Meta | None = None
    spec: PodSpec | None = None
    status: PodStatus | None = None


class DeploymentStatus(msgspec.Struct):
    observedGeneration: int | None = None
    replicas: int | None = None
    readyReplicas: int | None = None
    updatedReplicas: int | None = None
    availableReplicas: int | None = None


class Deployment(msgspec.Struct):
    metadata: Meta | None = None
    spec: dict[str, Any] | None = None  # kept whole, as plain data, for drift
    status: DeploymentStatus | None = None


class Taint(msgspec.Struct):
    key: str | None = None
    value: str | None = None
    effect: str | None = None


class NodeSpec(msgspec.Struct):
    unschedulable: bool | None = None
    taints: list[Taint] | None = None


class NodeSystemInfo(msgspec.Struct):
    kubeletVersion: str | None = None


class ContainerImage(msgspec.Struct):
    sizeBytes: int | None = None


class NodeStatus(msgspec.Struct):
    allocatable: dict[str, Any] | None = None
    conditions: list[Condition] | None = None
    nodeInfo: NodeSystemInfo | None = None
    images: list[ContainerImage] | None = None


class Node(msgspec.Struct):
    metadata: Meta | None = None
    spec: NodeSpec | None = None
    status: NodeStatus | None = None


class Named(msgspec.Struct):
    """Any object, of which only its metadata is read (Services, whose existence is all that matters)."""

    metadata: Meta | None = None


NO_META = Meta()
