"""Where a version's instances may run: its placement, part of the version (released, diffed and
rolled back with the image and the config).

``placement`` in a version spec::

    placement:
      pool: idc-a-intel              # nodes labelled dockyard.io/pool=idc-a-intel only
      cpu_model: intel-xeon-6248     # nodes labelled dockyard.io/cpu-model=... only
      spread: {level: node, hard: true, by: group}   # or level: zone; by: business (the business id)
      priority: online               # or batch: online instances may preempt batch ones
      location: {idc: b}             # the clusters it runs on (domain/location.py); default: the app's
      distribution: proportional     # or fixed counts {idc-a: 8, cloud-b: 4}
      release_order: [cloud-b, idc-a]   # releases go cluster by cluster in this order (the rest by name)

:func:`parse_placement` refuses bad input naming ``placement.<field>``; :func:`pod_placement` renders
a placement into plain pod spec fields (nodeSelector, affinity, topologySpreadConstraints) for the
real scheduler to decide with. Both are pure.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any, Literal

from dockyard.domain.errors import InvalidInput
from dockyard.domain.location import MAX_CLUSTERS, Location, parse_location

POOL_LABEL = "dockyard.io/pool"
CPU_MODEL_LABEL = "dockyard.io/cpu-model"
BUSINESS_LABEL = "dockyard.io/business-id"
DEDICATED_LABEL = "dockyard.io/dedicated"  # label and NoSchedule taint of a pool's nodes dedicated to one application
AUTO = "auto"  # cpu_model: auto — Dockyard chooses one for the application, where the capacity is
LEVELS = {"node": "kubernetes.io/hostname", "zone": "topology.kubernetes.io/zone"}
# Dockyard's PriorityClasses: online services above batch work, so that in mixed pools the scheduler
# preempts batch instances when an online one needs room (batch never preempts anything).
PRIORITIES = {"online": ("dockyard-online", 100000, "PreemptLowerPriority"), "batch": ("dockyard-batch", 1000, "Never")}
_LABEL_VALUE = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")


@dataclass(frozen=True)
class Spread:
    """Instances apart from each other on ``level`` (node or zone): ``hard`` refuses to place two
    together, soft only prefers not to; ``by`` group (this group's instances) or business (every
    group with the same business id)."""

    level: Literal["node", "zone"] = "node"
    hard: bool = False
    by: Literal["group", "business"] = "group"


@dataclass(frozen=True)
class Placement:
    pool: str | None = None
    cpu_model: str | None = None
    spread: Spread | None = None
    priority: Literal["online", "batch"] | None = None
    location: Location | None = None
    distribution: tuple[tuple[str, int], ...] = ()  # fixed counts per cluster; () = proportional
    release_order: tuple[str, ...] = ()


def parse_placement(raw: Any) -> Placement | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise InvalidInput("placement", "placement must be an object: pool, cpu_model, spread")
    unknown = sorted(set(raw) - {"pool", "cpu_model", "spread", "priority", *_WHERE})
    if unknown:
        raise InvalidInput(f"placement.{unknown[0]}", f"unknown field {unknown[0]!r}")
    priority = raw.get("priority")
    if priority is not None and priority not in PRIORITIES:
        raise InvalidInput("placement.priority", "priority must be online or batch")
    placement = Placement(
        pool=_label_value(raw, "pool"),
        cpu_model=_label_value(raw, "cpu_model"),
        spread=_spread(raw.get("spread")),
        priority=priority,
        location=parse_location(raw.get("location")),
        distribution=_distribution(raw.get("distribution")),
        release_order=_names(raw.get("release_order"), "placement.release_order"),
    )
    return None if placement == Placement() else placement


_WHERE = ("location", "distribution", "release_order")


def _distribution(raw: Any) -> tuple[tuple[str, int], ...]:
    """``proportional`` (or nothing): () ; fixed counts as a mapping, or the stored list of pairs."""
    if raw is None or raw == "proportional" or (isinstance(raw, (list, tuple)) and not raw):
        return ()  # the stored form of proportional is an empty list
    field = "placement.distribution"
    pairs = list(raw.items()) if isinstance(raw, dict) else raw
    if not isinstance(pairs, (list, tuple)) or not pairs or len(pairs) > MAX_CLUSTERS:
        raise InvalidInput(field, "distribution must be proportional or counts per cluster, e.g. {idc-a: 8, idc-b: 4}")
    out: list[tuple[str, int]] = []
    for pair in pairs:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise InvalidInput(field, "distribution must be proportional or counts per cluster")
        name, count = pair
        _names([name], field)
        if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= 10000:
            raise InvalidInput(f"{field}.{name}", "a cluster's count must be an integer from 0 to 10000")
        out.append((name, count))
    if len({n for n, _ in out}) != len(out):
        raise InvalidInput(field, "a cluster is named twice")
    return tuple(out)


def _names(raw: Any, field: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, (list, tuple)) or len(raw) > MAX_CLUSTERS:
        raise InvalidInput(field, f"{field} must be a list of at most {MAX_CLUSTERS} cluster names")
    for name in raw:
        if not isinstance(name, str) or not _LABEL_VALUE.fullmatch(name) or name != name.lower():
            raise InvalidInput(field, f"{name!r} is not a cluster name")
    return tuple(dict.fromkeys(raw))


def _label_value(raw: dict[str, Any], key: str) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not _LABEL_VALUE.fullmatch(value):
        raise InvalidInput(f"placement.{key}", f"{key} must be a label value (letters, digits, '-', '_', '.'; ≤ 63)")
    return value


def _spread(raw: Any) -> Spread | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise InvalidInput("placement.spread", "spread must be an object: level, hard, by")
    unknown = sorted(set(raw) - {"level", "hard", "by"})
    if unknown:
        raise InvalidInput(f"placement.spread.{unknown[0]}", f"unknown field {unknown[0]!r}")
    level, hard, by = raw.get("level", "node"), raw.get("hard", False), raw.get("by", "group")
    if level not in LEVELS:
        raise InvalidInput("placement.spread.level", "level must be node or zone")
    if not isinstance(hard, bool):
        raise InvalidInput("placement.spread.hard", "hard must be true or false")
    if by not in ("group", "business"):
        raise InvalidInput("placement.spread.by", "by must be group or business")
    return Spread(level=level, hard=hard, by=by)


def dedicated_value(system: str, app: str) -> str:
    """The value of :data:`DEDICATED_LABEL` on nodes dedicated to ``system/app``: ``<system>.<app>``,
    or, when that is longer than a label value may be (63), its first 50 characters and a digest."""
    value = f"{system}.{app}"
    if len(value) <= 63:
        return value
    return f"{value[:50].rstrip('.-_')}-{hashlib.sha256(value.encode()).hexdigest()[:12]}"


def pod_placement(
    placement: Placement | None,
    group_selector: dict[str, str],
    business_id: str,
    *,
    dedicated: str = "",
    cpu_model: str = "",
) -> dict[str, Any]:
    """The pod spec fields for ``placement``: nothing for none. Spread ``by: business`` without a
    business id spreads the group's instances. ``dedicated`` (the application's pool is dedicated to it,
    :func:`dedicated_value`) adds the toleration of that taint and the nodeSelector on that label;
    ``cpu_model`` is the model chosen for the application, used when the placement says ``auto``.
    A placement naming a pool also tolerates that pool's taint (``dockyard.io/pool=<pool>:NoSchedule``):
    any pool is reserved for the groups that name it by tainting its nodes so (the sandbox's real pool is)."""
    fields: dict[str, Any] = {}
    if dedicated:
        fields["nodeSelector"] = {DEDICATED_LABEL: dedicated}
        fields["tolerations"] = [
            {"key": DEDICATED_LABEL, "operator": "Equal", "value": dedicated, "effect": "NoSchedule"}
        ]
    if placement is None:
        return fields
    model = cpu_model if placement.cpu_model == AUTO else placement.cpu_model
    selector = {k: v for k, v in ((POOL_LABEL, placement.pool), (CPU_MODEL_LABEL, model)) if v}
    if selector:
        fields["nodeSelector"] = {**fields.get("nodeSelector", {}), **selector}
    if placement.pool:
        fields["tolerations"] = [*fields.get("tolerations", []), pool_toleration(placement.pool)]
    if placement.priority:
        fields["priorityClassName"] = PRIORITIES[placement.priority][0]
    spread = placement.spread
    if spread is None:
        return fields
    labels = {BUSINESS_LABEL: business_id} if spread.by == "business" and business_id else group_selector
    if spread.level == "node":
        term = {"labelSelector": {"matchLabels": labels}, "topologyKey": LEVELS["node"]}
        anti = (
            {"requiredDuringSchedulingIgnoredDuringExecution": [term]}
            if spread.hard
            else {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 100, "podAffinityTerm": term}]}
        )
        fields["affinity"] = {"podAntiAffinity": anti}
    else:
        fields["topologySpreadConstraints"] = [
            {
                "maxSkew": 1,
                "topologyKey": LEVELS["zone"],
                "whenUnsatisfiable": "DoNotSchedule" if spread.hard else "ScheduleAnyway",
                "labelSelector": {"matchLabels": labels},
            }
        ]
    return fields


def pool_toleration(pool: str) -> dict[str, str]:
    """The toleration of the taint that reserves ``pool`` for the groups naming it."""
    return {"key": POOL_LABEL, "operator": "Equal", "value": pool, "effect": "NoSchedule"}


def priority_classes() -> list[dict[str, Any]]:
    """Dockyard's PriorityClasses (cluster-wide), applied before a workload that names one."""
    return [
        {
            "apiVersion": "scheduling.k8s.io/v1",
            "kind": "PriorityClass",
            "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "dockyard"}},
            "value": value,
            "preemptionPolicy": policy,
            "globalDefault": False,
            "description": f"Dockyard: {kind} instances",
        }
        for kind, (name, value, policy) in PRIORITIES.items()
    ]
