"""What Dockyard made that nothing owns any more (pure): the resource pool's garbage.

- an object labelled ``app.kubernetes.io/managed-by: dockyard`` with ``dockyard.io/app`` and
  ``/group`` labels (a Deployment, Service, ConfigMap, Secret, PodDisruptionBudget) whose group is not in the database;
- a namespace labelled ``dockyard.io/system`` and managed by Dockyard whose system is gone (its
  objects are reported with it, not one by one);
- a node tainted or labelled ``dockyard.io/dedicated`` that no dedication of its pool explains
  (a pool undedicated while the cluster was away, a node moved to another pool...).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from dockyard.domain.capacity import NodeInfo
from dockyard.domain.placement import DEDICATED_LABEL, POOL_LABEL

MANAGED = ("app.kubernetes.io/managed-by", "dockyard")


@dataclass(frozen=True)
class Leftover:
    kind: str  # Deployment | Service | ConfigMap | Secret | PodDisruptionBudget | Namespace | Node
    namespace: str
    name: str
    reason: str


def leftovers(
    objects: Iterable[Mapping[str, Any]],
    *,
    systems: set[str],
    groups: set[tuple[str, str, str]],
) -> list[Leftover]:
    """The objects (as the API gives them: ``kind`` and ``metadata``) that no system or group owns."""
    found: list[Leftover] = []
    objects = list(objects)
    gone = set()
    for obj in objects:
        meta = obj.get("metadata") or {}
        labels = meta.get("labels") or {}
        if obj.get("kind") == "Namespace" and labels.get(MANAGED[0]) == MANAGED[1]:
            system = labels.get("dockyard.io/system", "")
            if system and system not in systems:
                gone.add(meta.get("name", ""))
                found.append(Leftover("Namespace", "", meta.get("name", ""), f"system {system!r} was deleted"))
    for obj in objects:
        meta = obj.get("metadata") or {}
        labels = meta.get("labels") or {}
        namespace = meta.get("namespace") or ""
        if obj.get("kind") == "Namespace" or labels.get(MANAGED[0]) != MANAGED[1] or namespace in gone:
            continue
        app, group = labels.get("dockyard.io/app"), labels.get("dockyard.io/group")
        if app and group and (namespace, app, group) not in groups:
            reason = f"group {namespace}/{app}/{group} does not exist"
            found.append(Leftover(str(obj.get("kind")), namespace, meta.get("name", ""), reason))
    return sorted(found, key=lambda x: (x.kind, x.namespace, x.name))


def stale_dedications(nodes: Iterable[NodeInfo], dedicated: Mapping[str, str]) -> list[Leftover]:
    """Nodes whose ``dockyard.io/dedicated`` taint or label is not their pool's dedication
    (``dedicated`` maps a pool to its label value)."""
    found = []
    for node in nodes:
        marks = {t.value for t in node.taints if t.key == DEDICATED_LABEL}
        label = node.label(DEDICATED_LABEL)
        if label is not None:
            marks.add(label)
        wanted = dedicated.get(node.label(POOL_LABEL) or "")
        if marks and marks != {wanted}:
            shown = ", ".join(sorted(marks))
            why = f"dedicated to {shown} but its pool is " + (f"dedicated to {wanted}" if wanted else "not dedicated")
            found.append(Leftover("Node", "", node.name, why))
    return sorted(found, key=lambda x: x.name)
