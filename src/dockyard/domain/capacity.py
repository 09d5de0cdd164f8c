"""What a cluster has and what its pods use: slim node and pod records, quantities, pod shapes (pure).

The watch caches (``adapters/kube/capacity.py``) keep :class:`NodeInfo` and :class:`Usage` records;
the placement preview (:mod:`dockyard.domain.fit`) reads them with a :class:`PodShape`, the scheduling
part of a pod spec as Dockyard renders it (:func:`shape_of`).

Only what the scheduler's filters for Dockyard's pods need is kept: node labels from
:data:`NODE_LABELS`, taints, ``unschedulable``, allocatable CPU (millis), memory (bytes) and pods; pod
labels ``dockyard.io/app``, ``/group`` and ``/business-id`` (the keys Dockyard's anti-affinity and spread
select on), its requests, priority and its own required anti-affinity on hostname. A selector on any
other label matches no pod here.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from dockyard.domain.placement import BUSINESS_LABEL, CPU_MODEL_LABEL, LEVELS, POOL_LABEL, PRIORITIES

APP_LABEL = "dockyard.io/app"
GROUP_LABEL = "dockyard.io/group"
DEDICATED = "dockyard.io/dedicated"
ZONE_LABEL = LEVELS["zone"]
HOSTNAME_LABEL = LEVELS["node"]
IDC_LABEL = "dockyard.io/idc"
NODE_LABELS = (POOL_LABEL, CPU_MODEL_LABEL, ZONE_LABEL, HOSTNAME_LABEL, IDC_LABEL, DEDICATED)
POD_LABELS = (APP_LABEL, GROUP_LABEL, BUSINESS_LABEL)
MIB = 1024 * 1024

_QUANTITY = re.compile(r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")
_SUFFIX: dict[str | None, Decimal] = {
    None: Decimal(1),
    "m": Decimal("0.001"),
    **{s: Decimal(1000) ** (i + 1) for i, s in enumerate(("k", "M", "G", "T", "P", "E"))},
    **{s: Decimal(1024) ** (i + 1) for i, s in enumerate(("Ki", "Mi", "Gi", "Ti", "Pi", "Ei"))},
}


def quantity(text: Any) -> Decimal:
    """A Kubernetes quantity (``500m``, ``2``, ``128Gi``, ``1e3``) as a number; 0 for none or nonsense."""
    found = _QUANTITY.fullmatch(str(text).strip()) if text is not None else None
    if found is None:
        return Decimal(0)
    number: Decimal = Decimal(found.group(1)) * _SUFFIX[found.group(2)]
    return number


def millis(text: Any) -> int:
    """CPU in millicores, rounded up like the scheduler's ``MilliValue``."""
    return _millis(text) if isinstance(text, str) else math.ceil(quantity(text) * 1000)


def byte_count(text: Any) -> int:
    """Memory in bytes, rounded up like ``Value``."""
    return _bytes(text) if isinstance(text, str) else math.ceil(quantity(text))


# The watch caches read every pod's requests on every event, and a cluster has few distinct ones.
@functools.lru_cache(maxsize=4096)
def _millis(text: str) -> int:
    return math.ceil(quantity(text) * 1000)


@functools.lru_cache(maxsize=4096)
def _bytes(text: str) -> int:
    return math.ceil(quantity(text))


@dataclass(frozen=True, slots=True)
class Taint:
    key: str
    value: str
    effect: str  # NoSchedule | PreferNoSchedule | NoExecute


@dataclass(frozen=True, slots=True)
class Toleration:
    key: str = ""
    operator: str = "Equal"  # or Exists
    value: str = ""
    effect: str = ""  # empty: every effect

    def tolerates(self, taint: Taint) -> bool:
        if self.effect and self.effect != taint.effect:
            return False
        if self.operator == "Exists":
            return not self.key or self.key == taint.key
        return self.key == taint.key and self.value == taint.value


def is_problem(condition: str, status: str) -> bool:
    """Whether a node condition of this type and status is a problem: ``Ready`` not ``True``, any
    other (pressure, node-problem-detector's ``KernelDeadlock``…) ``True``."""
    return status != "True" if condition == "Ready" else status == "True"


@dataclass(frozen=True, slots=True)
class NodeInfo:
    """A node as the preview sees it (see the module docstring for what is kept)."""

    name: str
    labels: tuple[tuple[str, str], ...]
    taints: tuple[Taint, ...]
    unschedulable: bool
    ready: bool
    cpu_millis: int  # allocatable
    memory: int  # allocatable, bytes
    pods: int  # allocatable
    # Conditions that are problems, as (type, reason, message): Ready not True, any other True
    # (pressure, node-problem-detector's); () for a healthy node, so it costs nothing there.
    problems: tuple[tuple[str, str, str], ...] = ()
    kubelet: str = ""  # status.nodeInfo.kubeletVersion
    # The images the kubelet reports (status.images: its largest 50 by default, so at least this
    # many bytes) and the allocatable ephemeral-storage, in bytes; 0 when not reported (KWOK nodes).
    images: int = 0
    ephemeral: int = 0

    def label(self, key: str) -> str | None:
        for k, v in self.labels:
            if k == key:
                return v
        return None


@dataclass(frozen=True, slots=True)
class Usage:
    """A pod that is scheduled or pending (not terminated): what it takes and what selects it."""

    namespace: str
    name: str
    node: str  # "" while pending
    phase: str
    cpu_millis: int  # requests: containers summed, or the largest init container if larger
    memory: int  # bytes, likewise
    priority: int
    app: str
    group: str
    business: str
    anti: tuple[tuple[str, str], ...] | None  # matchLabels of its required anti-affinity on hostname
    deleting: bool

    def label(self, key: str) -> str | None:
        if key == GROUP_LABEL:
            return self.group or None
        if key == APP_LABEL:
            return self.app or None
        if key == BUSINESS_LABEL:
            return self.business or None
        return None

    def matches(self, selector: tuple[tuple[str, str], ...]) -> bool:
        return all(self.label(k) == v for k, v in selector)


Selector = tuple[tuple[str, str], ...]  # matchLabels, sorted
LabelKey = tuple[str, str, str, Selector | None]  # app, group, business id, own anti-affinity


def label_key(pod: Usage) -> LabelKey:
    """What every selector of the preview reads of ``pod``: pods with equal keys are selected alike."""
    return (pod.app, pod.group, pod.business, pod.anti)


@dataclass(frozen=True)
class Spread:
    """A topology spread constraint the scheduler enforces (``DoNotSchedule``)."""

    topology_key: str
    max_skew: int
    selector: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class PodShape:
    """The scheduling part of a pod: where it may go and what it takes."""

    namespace: str
    labels: Mapping[str, str]
    cpu_millis: int
    memory: int
    node_selector: tuple[tuple[str, str], ...] = ()
    tolerations: tuple[Toleration, ...] = ()
    anti_affinity: tuple[tuple[tuple[str, str], ...], ...] = ()  # required terms on hostname: matchLabels
    spreads: tuple[Spread, ...] = ()
    priority: int = 0
    preempts: bool = True

    def matched_by(self, selector: tuple[tuple[str, str], ...]) -> bool:
        return all(self.labels.get(k) == v for k, v in selector)


def requests(pod_spec: Mapping[str, Any]) -> tuple[int, int]:
    """(CPU millis, memory bytes) a pod spec requests: containers summed, or the largest init container."""

    def asked(containers: Any) -> list[Mapping[str, Any] | None]:
        return [(c.get("resources") or {}).get("requests") for c in containers or ()]

    return requested(asked(pod_spec.get("containers")), asked(pod_spec.get("initContainers")))


def requested(
    containers: Iterable[Mapping[str, Any] | None], inits: Iterable[Mapping[str, Any] | None] = ()
) -> tuple[int, int]:
    """(CPU millis, memory bytes) of the ``resources.requests`` of a pod's containers and init
    containers (``None`` for a container that requests nothing): the containers' sum, or the largest
    init container's where it is larger, as the scheduler counts them."""
    cpu = memory = 0
    for asked in containers:
        if asked:
            cpu, memory = cpu + millis(asked.get("cpu")), memory + byte_count(asked.get("memory"))
    for asked in inits:
        if asked:
            cpu, memory = max(cpu, millis(asked.get("cpu"))), max(memory, byte_count(asked.get("memory")))
    return cpu, memory


def _match_labels(term: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(((term.get("labelSelector") or {}).get("matchLabels") or {}).items()))


def hostname_anti_affinity(pod_spec: Mapping[str, Any]) -> tuple[tuple[tuple[str, str], ...], ...]:
    """The matchLabels of each required pod anti-affinity term on ``kubernetes.io/hostname``."""
    anti = ((pod_spec.get("affinity") or {}).get("podAntiAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or []
    return tuple(_match_labels(t) for t in anti if t.get("topologyKey") == HOSTNAME_LABEL)


def shape_of(namespace: str, template: Mapping[str, Any]) -> PodShape:
    """The :class:`PodShape` of a pod template (``{metadata, spec}``) as Dockyard renders it."""
    spec = template.get("spec") or {}
    cpu, memory = requests(spec)
    value, policy = 0, "PreemptLowerPriority"
    for name, class_value, class_policy in PRIORITIES.values():
        if spec.get("priorityClassName") == name:
            value, policy = class_value, class_policy
    tolerations = tuple(
        Toleration(
            key=t.get("key") or "",
            operator=t.get("operator") or "Equal",
            value=t.get("value") or "",
            effect=t.get("effect") or "",
        )
        for t in spec.get("tolerations") or []
    )
    spreads = tuple(
        Spread(c["topologyKey"], int(c.get("maxSkew", 1)), _match_labels(c))
        for c in spec.get("topologySpreadConstraints") or []
        if c.get("whenUnsatisfiable") == "DoNotSchedule"
    )
    return PodShape(
        namespace=namespace,
        labels=dict((template.get("metadata") or {}).get("labels") or {}),
        cpu_millis=cpu,
        memory=memory,
        node_selector=tuple(sorted((spec.get("nodeSelector") or {}).items())),
        tolerations=tolerations,
        anti_affinity=hostname_anti_affinity(spec),
        spreads=spreads,
        priority=value,
        preempts=policy != "Never",
    )


@dataclass(frozen=True)
class Amount:
    cpu_millis: int = 0
    memory: int = 0  # bytes

    def __add__(self, other: Amount) -> Amount:
        return Amount(self.cpu_millis + other.cpu_millis, self.memory + other.memory)

    @property
    def memory_mib(self) -> int:
        return self.memory // MIB


@dataclass(frozen=True)
class PoolSummary:
    pool: str
    cpu_model: str
    nodes: int
    ready: int
    allocatable: Amount
    requested: Amount


@dataclass(frozen=True)
class ClusterSummary:
    ready: int
    not_ready: int
    pods: int
    pending: int
    allocatable: Amount
    requested: Amount
    pools: tuple[PoolSummary, ...]


def summarize(
    nodes: Iterable[NodeInfo], used: Callable[[str], tuple[int, int, int]], *, pods: int, pending: int
) -> ClusterSummary:
    """Nodes ready / not ready, allocatable against requested in all and per (pool, CPU model)."""
    groups: dict[tuple[str, str], list[NodeInfo]] = {}
    for node in nodes:
        key = (node.label(POOL_LABEL) or "", node.label(CPU_MODEL_LABEL) or "")
        groups.setdefault(key, []).append(node)
    pools = []
    for (pool, model), members in sorted(groups.items()):
        allocatable, requested = Amount(), Amount()
        for node in members:
            allocatable += Amount(node.cpu_millis, node.memory)
            cpu, memory, _ = used(node.name)
            requested += Amount(cpu, memory)
        ready = sum(1 for n in members if n.ready)
        pools.append(PoolSummary(pool, model, len(members), ready, allocatable, requested))
    ready = sum(p.ready for p in pools)
    return ClusterSummary(
        ready=ready,
        not_ready=sum(p.nodes for p in pools) - ready,
        pods=pods,
        pending=pending,
        allocatable=sum((p.allocatable for p in pools), Amount()),
        requested=sum((p.requested for p in pools), Amount()),
        pools=tuple(pools),
    )
