"""Watch caches of a cluster's capacity: its nodes, and every pod that holds or waits for room.

On the :class:`~dockyard.adapters.kube.watching.WatchCache` loop (list, watch, relist, backoff):
- :class:`NodeCache`: every node as a :class:`~dockyard.domain.capacity.NodeInfo` (labels of
  :data:`~dockyard.domain.capacity.NODE_LABELS` only, taints, unschedulable, ready, allocatable).
- :class:`UsageCache`: every pod of the cluster not terminated (the field selector
  ``status.phase!=Succeeded,status.phase!=Failed``, as the scheduler's own cache has it; a pod that
  ends is watched as deleted) as a :class:`~dockyard.domain.capacity.Usage` of about 200 bytes, by
  node, with each node's requested CPU, memory and pod count kept as pods come and go.
Strings repeated across records (namespaces, nodes, phases, labels) are interned, so each record
holds little more than its own name. Reads never do I/O.
"""

from __future__ import annotations

import sys
from collections.abc import Collection, Iterable, Iterator
from itertools import chain
from typing import Any

from dockyard.adapters.kube import wire
from dockyard.adapters.kube.client import KubeCluster
from dockyard.adapters.kube.watching import WatchCache
from dockyard.domain.capacity import (
    APP_LABEL,
    GROUP_LABEL,
    HOSTNAME_LABEL,
    NODE_LABELS,
    LabelKey,
    NodeInfo,
    Taint,
    Usage,
    byte_count,
    is_problem,
    label_key,
    millis,
    requested,
)
from dockyard.domain.placement import BUSINESS_LABEL

__all__ = ["NodeCache", "NodeIndex", "UsageCache", "UsageIndex", "slim_node", "slim_usage"]

_SHARED: dict[Any, Any] = {}


def _shared(value: Any) -> Any:
    """One object for equal tuples (taints, label sets, selectors), as :func:`sys.intern` for strings."""
    return _SHARED.setdefault(value, value)


def slim_node(node: wire.Node) -> NodeInfo:
    """A :class:`NodeInfo` of a node's JSON as decoded into :class:`~dockyard.adapters.kube.wire.Node`."""
    meta, spec, status = node.metadata or wire.NO_META, node.spec, node.status
    labels = meta.labels or {}
    kept = tuple((sys.intern(k), sys.intern(labels[k])) for k in NODE_LABELS if k in labels)
    taints = tuple(Taint(t.key or "", t.value or "", t.effect or "") for t in (spec.taints if spec else None) or [])
    allocatable = (status.allocatable if status else None) or {}
    conditions = (status.conditions if status else None) or []
    return NodeInfo(
        name=sys.intern(meta.name or ""),
        labels=_shared(kept),
        taints=_shared(taints),
        unschedulable=bool(spec.unschedulable) if spec else False,
        ready=any(c.type == "Ready" and c.status == "True" for c in conditions),
        cpu_millis=millis(allocatable.get("cpu")),
        memory=byte_count(allocatable.get("memory")),
        pods=int(millis(allocatable.get("pods")) // 1000),
        problems=_shared(_problems(conditions)),
        kubelet=sys.intern((status.nodeInfo.kubeletVersion or "") if status and status.nodeInfo else ""),
        images=sum(i.sizeBytes or 0 for i in (status.images if status else None) or []),
        ephemeral=byte_count(allocatable.get("ephemeral-storage")),
    )


def _problems(conditions: list[wire.Condition]) -> tuple[tuple[str, str, str], ...]:
    """The conditions that are problems: Ready not True, any other True (messages cut to 200)."""
    out = []
    for c in conditions:
        kind, status = c.type or "", c.status or ""
        if is_problem(kind, status):
            out.append((sys.intern(kind), sys.intern(c.reason or ""), (c.message or "")[:200]))
    return tuple(out)


def slim_usage(pod: wire.Pod) -> Usage:
    """A :class:`Usage` of a pod's JSON as decoded into :class:`~dockyard.adapters.kube.wire.Pod`."""
    meta, spec, status = pod.metadata or wire.NO_META, pod.spec or _NO_SPEC, pod.status
    labels = meta.labels or {}
    cpu, memory = _requests(spec)
    anti = None
    terms = (spec.affinity.podAntiAffinity if spec.affinity else None) or _NO_ANTI
    for term in terms.requiredDuringSchedulingIgnoredDuringExecution or []:
        if term.topologyKey == HOSTNAME_LABEL:
            matched = (term.labelSelector.matchLabels if term.labelSelector else None) or {}
            anti = _shared(tuple(sorted(matched.items())))
    return Usage(
        namespace=sys.intern(meta.namespace or ""),
        name=meta.name or "",
        node=sys.intern(spec.nodeName or ""),
        phase=sys.intern((status.phase if status else None) or "Pending"),
        cpu_millis=cpu,
        memory=memory,
        priority=spec.priority or 0,
        app=sys.intern(labels.get(APP_LABEL, "")),
        group=sys.intern(labels.get(GROUP_LABEL, "")),
        business=sys.intern(labels.get(BUSINESS_LABEL, "")),
        anti=anti,
        deleting=meta.deletionTimestamp is not None,
    )


_NO_SPEC = wire.PodSpec()
_NO_ANTI = wire.PodAntiAffinity()


def _requests(spec: wire.PodSpec) -> tuple[int, int]:
    def asked(containers: list[wire.Container] | None) -> list[dict[str, Any] | None]:
        return [c.resources.requests if c.resources else None for c in containers or ()]

    return requested(asked(spec.containers), asked(spec.initContainers))


class NodeIndex:
    """Nodes by name; pure in-memory bookkeeping."""

    def __init__(self, records: Iterable[NodeInfo] = ()) -> None:
        self._by_name: dict[str, NodeInfo] = {r.name: r for r in records}

    def __len__(self) -> int:
        return len(self._by_name)

    def put(self, record: NodeInfo) -> None:
        self._by_name[record.name] = record

    def remove(self, namespace: str, name: str) -> None:
        self._by_name.pop(name, None)

    def all(self) -> list[NodeInfo]:
        return list(self._by_name.values())


class UsageIndex:
    """Pods by (namespace, name), by namespace and label key (pods the preview selects alike) and by
    node, with each node's requested sums kept as they change; the :class:`~dockyard.domain.fit.Pods`
    the placement preview reads."""

    def __init__(self, records: Iterable[Usage] = ()) -> None:
        self._by_name: dict[tuple[str, str], Usage] = {}
        self._by_node: dict[str, dict[tuple[str, str], Usage]] = {}
        self._by_namespace: dict[str, dict[LabelKey, dict[str, Usage]]] = {}  # namespace → label key → name
        self._used: dict[str, list[int]] = {}  # node → [cpu millis, memory bytes, pods]
        for record in records:
            self.put(record)

    def __len__(self) -> int:
        return len(self._by_name)

    def put(self, record: Usage) -> None:
        key = (record.namespace, record.name)
        self._forget(key)
        self._by_name[key] = record
        in_namespace = self._by_namespace.setdefault(record.namespace, {})
        in_namespace.setdefault(label_key(record), {})[record.name] = record
        if record.node:
            self._by_node.setdefault(record.node, {})[key] = record
            used = self._used.setdefault(record.node, [0, 0, 0])
            used[0], used[1], used[2] = used[0] + record.cpu_millis, used[1] + record.memory, used[2] + 1

    def remove(self, namespace: str, name: str) -> None:
        self._forget((namespace, name))

    def _forget(self, key: tuple[str, str]) -> None:
        old = self._by_name.pop(key, None)
        if old is None:
            return
        in_namespace = self._by_namespace.get(old.namespace, {})
        alike = in_namespace.get(label_key(old), {})
        alike.pop(old.name, None)
        if not alike:
            in_namespace.pop(label_key(old), None)
        if not in_namespace:
            self._by_namespace.pop(old.namespace, None)
        if not old.node:
            return
        on_node = self._by_node.get(old.node, {})
        on_node.pop(key, None)
        used = self._used[old.node]
        used[0], used[1], used[2] = used[0] - old.cpu_millis, used[1] - old.memory, used[2] - 1
        if not on_node:
            self._by_node.pop(old.node, None)
            self._used.pop(old.node, None)

    def on(self, node: str) -> Iterable[Usage]:
        """The pods on ``node`` (a live view: read it before anything awaits)."""
        return self._by_node.get(node, {}).values()

    def in_namespace(self, namespace: str) -> Iterable[Usage]:
        """The pods of ``namespace`` (a live view: read it before anything awaits)."""
        return chain.from_iterable(alike.values() for alike in self._by_namespace.get(namespace, {}).values())

    def grouped(self, namespace: str) -> Iterable[Collection[Usage]]:
        """The pods of ``namespace`` by :func:`~dockyard.domain.capacity.label_key` (a live view, likewise)."""
        return [alike.values() for alike in self._by_namespace.get(namespace, {}).values()]

    def used(self, node: str) -> tuple[int, int, int]:
        """What the pods on ``node`` request: CPU millis, memory bytes, pod count."""
        cpu, memory, pods = self._used.get(node, (0, 0, 0))
        return cpu, memory, pods

    def pending(self) -> int:
        return len(self._by_name) - sum(len(pods) for pods in self._by_node.values())

    def __iter__(self) -> Iterator[Usage]:
        return iter(self._by_name.values())


class NodeCache(WatchCache[wire.Node, NodeInfo, NodeIndex]):
    """Every node of the cluster."""

    def __init__(self, cluster: KubeCluster) -> None:
        super().__init__(cluster, path="/api/v1/nodes", wire_type=wire.Node, labels={}, slim=slim_node, index=NodeIndex)

    def all(self) -> list[NodeInfo]:
        return self._index.all()


class UsageCache(WatchCache[wire.Pod, Usage, UsageIndex]):
    """Every pod of the cluster that is not terminated, by node."""

    def __init__(self, cluster: KubeCluster) -> None:
        super().__init__(
            cluster,
            path="/api/v1/pods",
            wire_type=wire.Pod,
            labels={},
            slim=slim_usage,
            index=UsageIndex,
            fields="status.phase!=Succeeded,status.phase!=Failed",
        )

    @property
    def index(self) -> UsageIndex:
        """The current index (replaced whole on a relist: take it again for each read)."""
        return self._index
