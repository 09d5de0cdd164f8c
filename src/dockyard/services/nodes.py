"""Marking nodes: a label and a NoSchedule taint of one key, set or removed, leaving the rest alone.

A node's taints are one list that the apiserver replaces whole (server-side apply would take the
whole list over), so each node is read, changed and written back with its resourceVersion; a write
that loses a race with another (the node controller's, KWOK's) is tried again.
"""

from __future__ import annotations

from dockyard.domain.failures import ClusterConflict, ClusterNotFound
from dockyard.services.ports import ClusterClient

_ATTEMPTS = 5


async def mark(kube: ClusterClient, node: str, key: str, value: str | None) -> bool:
    """Set label ``key=value`` and taint ``key=value:NoSchedule`` on ``node``, or with ``value`` None
    remove both; False if the node does not exist. Unchanged nodes are not written."""
    for attempt in range(_ATTEMPTS):
        try:
            live = await kube.get("v1", "Node", node)
        except ClusterNotFound:
            return False
        labels = live["metadata"].setdefault("labels", {})
        spec = live.setdefault("spec", {})
        before = spec.get("taints") or []
        taints = [t for t in before if t.get("key") != key]
        if value is not None:
            taints.append({"key": key, "value": value, "effect": "NoSchedule"})
        ours = [t for t in before if t.get("key") == key]
        if labels.get(key) == value and ours == taints[len(taints) - len(ours) :] and len(ours) == (value is not None):
            return True  # already so
        if value is None:
            labels.pop(key, None)
        else:
            labels[key] = value
        spec["taints"] = taints
        try:
            await kube.replace(live)
            return True
        except ClusterConflict:
            if attempt == _ATTEMPTS - 1:
                raise
    return True
