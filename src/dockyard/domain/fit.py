"""Placement preview: where would N instances of a pod land, like kube-scheduler decides (pure).

:func:`place` places the instances one by one on a copy of the cluster's state, running the default
scheduler's filters in its order — NodeUnschedulable, TaintToleration (NoSchedule / NoExecute), NodeAffinity
(nodeSelector), NodeResourcesFit (pods, cpu, memory), PodTopologySpread (``DoNotSchedule``), InterPodAffinity
(the pod's required anti-affinity on hostname, then existing pods' against it) — and picks among the
nodes that pass the one in the least crowded spread domain, then the least allocated (as the scores
would). When no node passes and the pod may preempt, it evicts pods of lower priority from the node
needing the fewest victims. The first instance that cannot be placed gets the scheduler's message,
``0/10 nodes are available: 3 Insufficient cpu, 7 node(s) didn't match Pod's node affinity/selector.``
(reasons counted per node, sorted as strings); every later one fails alike, so the preview stops there.
The choice does not scan every node for every instance (:class:`_Chooser`), with the same answers
as that scan (``tests/unit/domain/fit_reference.py``, compared over random clusters).

Not modelled: node ports, volumes, pod affinity, preferred terms' influence beyond the tie-break,
labels outside :data:`~dockyard.domain.capacity.POD_LABELS`, nominated pods.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from dockyard.domain.capacity import LabelKey, NodeInfo, PodShape, Selector, Taint, Usage, label_key
from dockyard.domain.placement import CPU_MODEL_LABEL

UNSCHEDULABLE = "node(s) were unschedulable"
TAINTED = "node(s) had untolerated taint(s)"
SELECTOR = "node(s) didn't match Pod's node affinity/selector"
TOO_MANY_PODS = "Too many pods"
NO_CPU = "Insufficient cpu"
NO_MEMORY = "Insufficient memory"
SPREAD = "node(s) didn't match pod topology spread constraints"
SPREAD_LABEL = SPREAD + " (missing required label)"
ANTI = "node(s) didn't match pod anti-affinity rules"
EXISTING_ANTI = "node(s) didn't satisfy existing pods anti-affinity rules"
_UNSCHEDULABLE_TAINT = Taint("node.kubernetes.io/unschedulable", "", "NoSchedule")
_PERMANENT = {TOO_MANY_PODS, NO_CPU, NO_MEMORY, ANTI, EXISTING_ANTI}  # placing more never lifts these


class Pods(Protocol):
    """What the preview reads of a cluster's pods (the usage cache's index, or :class:`PodList`)."""

    def used(self, node: str) -> tuple[int, int, int]:
        """CPU millis, memory bytes and pod count the pods on ``node`` take."""

    def on(self, node: str) -> Iterable[Usage]:
        """The pods on ``node``."""

    def in_namespace(self, namespace: str) -> Iterable[Usage]:
        """The pods of ``namespace``, on a node or not."""

    def grouped(self, namespace: str) -> Iterable[Collection[Usage]]:
        """The pods of ``namespace`` in non-empty sets of equal :func:`~dockyard.domain.capacity.label_key`."""


class PodList:
    """:class:`Pods` over a plain list (tests, and the bench's list-then-compute alternative)."""

    def __init__(self, pods: Iterable[Usage]) -> None:
        self._on: dict[str, list[Usage]] = {}
        self._namespaces: dict[str, list[Usage]] = {}
        self._grouped: dict[str, dict[LabelKey, list[Usage]]] = {}
        self._used: dict[str, tuple[int, int, int]] = {}
        for pod in pods:
            self._namespaces.setdefault(pod.namespace, []).append(pod)
            self._grouped.setdefault(pod.namespace, {}).setdefault(label_key(pod), []).append(pod)
            if pod.node:
                self._on.setdefault(pod.node, []).append(pod)
                cpu, memory, count = self._used.get(pod.node, (0, 0, 0))
                self._used[pod.node] = (cpu + pod.cpu_millis, memory + pod.memory, count + 1)

    def used(self, node: str) -> tuple[int, int, int]:
        return self._used.get(node, (0, 0, 0))

    def on(self, node: str) -> Iterable[Usage]:
        return self._on.get(node, [])

    def in_namespace(self, namespace: str) -> Iterable[Usage]:
        return self._namespaces.get(namespace, [])

    def grouped(self, namespace: str) -> Iterable[Collection[Usage]]:
        return self._grouped.get(namespace, {}).values()


@dataclass(frozen=True)
class Fit:
    """How many of ``wanted`` instances fit, where, and the scheduler's message for the first that does not."""

    wanted: int
    fits: int
    nodes: dict[str, int] = field(default_factory=dict)
    message: str = ""
    reasons: dict[str, int] = field(default_factory=dict)
    preempted: int = 0

    @property
    def pending(self) -> int:
        return self.wanted - self.fits


@dataclass
class _Node:
    info: NodeInfo
    cpu: int = 0  # requested
    memory: int = 0
    pods: int = 0
    anti: int = 0  # pods here the shape's anti-affinity selects
    repels: int = 0  # pods here whose own anti-affinity selects the shape


class _State:
    def __init__(self, shape: PodShape, nodes: Sequence[NodeInfo]) -> None:
        self.shape = shape
        self.nodes = {n.name: _Node(n) for n in nodes}
        self.domains: list[dict[str, int]] = [{} for _ in shape.spreads]  # per spread: domain → matching pods
        self.self_match = [shape.matched_by(s.selector) for s in shape.spreads]

    def add(self, node: _Node, pod: Usage | None, sign: int = 1) -> None:
        """Count ``pod`` (None: one instance of the shape) on ``node``, or take it off with ``sign`` -1."""
        shape = self.shape
        cpu, memory = (shape.cpu_millis, shape.memory) if pod is None else (pod.cpu_millis, pod.memory)
        node.cpu, node.memory, node.pods = node.cpu + sign * cpu, node.memory + sign * memory, node.pods + sign
        self.select(node, pod, sign)

    def select(self, node: _Node, pod: Usage | None, sign: int = 1) -> None:
        """Count what ``pod`` on ``node`` means to the shape's anti-affinity and spread (not its resources)."""
        shape = self.shape
        if pod is not None and pod.namespace != shape.namespace:
            return  # anti-affinity and spread select pods of the pod's own namespace
        matches = shape.matched_by if pod is None else pod.matches
        if any(matches(t) for t in shape.anti_affinity):
            node.anti += sign
        if pod is None:
            repels = any(shape.matched_by(t) for t in shape.anti_affinity)  # instances repel each other
        else:
            repels = pod.anti is not None and shape.matched_by(pod.anti)
        if repels:
            node.repels += sign
        if pod is not None and pod.deleting:
            return  # terminating pods do not count for topology spread
        for i, spread in enumerate(shape.spreads):
            domain = node.info.label(spread.topology_key)
            matched = self.self_match[i] if pod is None else pod.matches(spread.selector)
            if domain is not None and matched and domain in self.domains[i]:
                self.domains[i][domain] += sign

    def selects(self, pod: Usage) -> bool:
        """Whether :meth:`select` would count ``pod`` (of the shape's namespace) for anything."""
        shape = self.shape
        if pod.anti is not None and shape.matched_by(pod.anti):
            return True
        return any(pod.matches(t) for t in shape.anti_affinity) or any(pod.matches(s.selector) for s in shape.spreads)

    def static_reason(self, node: NodeInfo, *, selector: bool = True) -> str | None:
        shape = self.shape
        if node.unschedulable and not any(t.tolerates(_UNSCHEDULABLE_TAINT) for t in shape.tolerations):
            return UNSCHEDULABLE
        for taint in node.taints:
            if taint.effect in ("NoSchedule", "NoExecute") and not any(t.tolerates(taint) for t in shape.tolerations):
                return TAINTED
        if selector and not _has_all(node.labels, shape.node_selector):
            return SELECTOR
        return None

    def floors(self) -> list[int]:
        """Each spread's smallest domain count (the scheduler's global minimum)."""
        return [min(counts.values()) if counts else 0 for counts in self.domains]

    def reasons(self, node: _Node, floors: list[int] | None = None) -> list[str]:
        """Why one more instance cannot go on ``node`` (after the static filters): empty if it can.
        ``floors``: :meth:`floors`, when the caller asks for many nodes at once."""
        shape, info = self.shape, node.info
        short = []
        if node.pods + 1 > info.pods:
            short.append(TOO_MANY_PODS)
        if shape.cpu_millis and node.cpu + shape.cpu_millis > info.cpu_millis:
            short.append(NO_CPU)
        if shape.memory and node.memory + shape.memory > info.memory:
            short.append(NO_MEMORY)
        if short:
            return short
        for i, spread in enumerate(shape.spreads):
            domain = info.label(spread.topology_key)
            if domain is None:
                return [SPREAD_LABEL]
            counts = self.domains[i]
            floor = floors[i] if floors is not None else min(counts.values(), default=0)
            if counts and counts[domain] + self.self_match[i] - floor > spread.max_skew:
                return [SPREAD]
        if node.anti:
            return [ANTI]
        if node.repels:
            return [EXISTING_ANTI]
        return []


def place(
    nodes: Sequence[NodeInfo],
    pods: Pods,
    shape: PodShape,
    count: int,
    *,
    replacing: Selector | None = None,
) -> Fit:
    """Place ``count`` instances of ``shape`` on ``nodes`` holding ``pods``, as if the pods of the
    shape's namespace that ``replacing`` selects (the group's current instances, which the new ones
    replace) were gone.

    Cost: the nodes once; the pods of the shape's namespace that a selector of the shape (or
    ``replacing``) picks, once; then about log(nodes) per instance (:class:`_Chooser`); the pods of
    every node only when preempting."""
    static, affine = _static(shape, nodes)
    state = _State(shape, affine)  # only the nodes its selector matches count for the spreads
    for node in state.nodes.values():
        node.cpu, node.memory, node.pods = pods.used(node.info.name)
    for i, spread in enumerate(shape.spreads):
        for info in affine:
            domain = info.label(spread.topology_key)
            if domain is not None:
                state.domains[i].setdefault(domain, 0)
    _count_namespace(state, pods, replacing)
    chooser = _Chooser(state, [state.nodes[n] for n, why in static.items() if why is None])
    placed: dict[str, int] = {}
    preempted = 0
    evicted: set[tuple[str, str]] = set()
    for done in range(count):
        best = chooser.best()
        if best is None and shape.preempts and shape.priority > 0:
            best, victims = _preempt(state, static, pods, replacing, evicted)
            if best is not None:
                kept = chooser.kept(best)
                for pod in victims:
                    state.add(best, pod, -1)
                    evicted.add((pod.namespace, pod.name))
                chooser.rebuild(best, kept)
                preempted += len(victims)
        if best is None:
            reasons = _histogram(state, static)
            return Fit(count, done, placed, _message(len(nodes), reasons), reasons, preempted)
        chooser.place(best)
        placed[best.info.name] = placed.get(best.info.name, 0) + 1
    return Fit(count, count, placed, "", {}, preempted)


def _static(shape: PodShape, nodes: Sequence[NodeInfo]) -> tuple[dict[str, str | None], list[NodeInfo]]:
    """Each node's static reason (:meth:`_State.static_reason`, the taints judged once per set of
    taints), and the nodes the shape's nodeSelector matches, in order."""
    judge = _State(shape, ())
    static: dict[str, str | None] = {}
    affine: list[NodeInfo] = []
    by_taints: dict[tuple[bool, tuple[Taint, ...]], str | None] = {}
    for node in nodes:
        key = (node.unschedulable, node.taints)
        if key not in by_taints:
            by_taints[key] = judge.static_reason(node, selector=False)
        why = by_taints[key]
        if _has_all(node.labels, shape.node_selector):
            affine.append(node)
        elif why is None:
            why = SELECTOR
        static[node.name] = why
    return static, affine


def _has_all(labels: tuple[tuple[str, str], ...], selector: tuple[tuple[str, str], ...]) -> bool:
    """Whether a node's ``labels`` hold every (key, value) of ``selector`` (keys are unique in both):
    pairs looked up in the tuple, not :meth:`NodeInfo.label` per key, as this runs for every node on
    every preview."""
    return all(pair in labels for pair in selector)


def _count_namespace(state: _State, pods: Pods, replacing: Selector | None) -> None:
    """Take the replaced pods' room off their nodes, and count the pods of the shape's namespace its
    anti-affinity and spreads select (one look per set of pods with equal labels)."""
    for members in pods.grouped(state.shape.namespace):
        first = next(iter(members))
        replaced = replacing is not None and first.matches(replacing)
        if not replaced and not state.selects(first):
            continue  # nothing of the shape selects these pods: they only take room, counted in used()
        for pod in members:
            holder = state.nodes.get(pod.node)
            if holder is None:
                continue  # pending, on a node not known (yet), or on one the nodeSelector does not match
            if replaced:
                holder.cpu, holder.memory, holder.pods = (
                    holder.cpu - pod.cpu_millis,
                    holder.memory - pod.memory,
                    holder.pods - 1,
                )
            else:
                state.select(holder, pod)


class _Chooser:
    """The node the scheduler would pick next, without scanning every node for every instance.

    Picks what a scan of the candidates would: of the nodes passing every filter, the least
    (crowd, allocated share, position in the candidate list). Nodes are grouped by their tuple of
    spread domains (one group without spreads; a node each for a spread on hostname): a group passes
    the spread filter or not as a whole, and shares the crowd. Each group keeps a heap of its nodes
    by (share, position); a heap of groups by (crowd, share, position) of their best node. Between
    preemptions keys only grow (an instance adds to its node's share and its domains' counts) and a
    node failing NodeResourcesFit or anti-affinity stays failing, so heap entries are lazily checked
    when they come up: an entry below its group's true key is pushed again with the true key, a node
    failing for good is dropped. A group failing only the spread filter (the floors may rise) is set
    aside for this pick. A preemption lowers keys: everything is rebuilt then.

    It also keeps what the scan's candidate list would hold, as only the position of a node that a
    preemption puts back depends on it: the scan drops a node from the list when its reasons are all
    permanent (:data:`_PERMANENT`), and appends a node that preemption makes room on if not there.
    Resources only fill up, so "short now" tells for those; a node that starts with anti-affinity
    pods on it is dropped the first time its spread filter passes, so those are watched each pick.
    """

    def __init__(self, state: _State, candidates: list[_Node]) -> None:
        self.state = state
        self.position = {n.info.name: i for i, n in enumerate(candidates)}
        self.next_position = len(candidates)
        self.dropped: set[str] = set()
        self.watch = [n for n in candidates if n.anti or n.repels]  # dropped once spread passes
        self.rebuild(None, True)

    def rebuild(self, node: _Node | None, kept: bool) -> None:
        """Build the heaps from the state; ``node``, where a preemption made room, is a candidate again
        (at the end of the list unless ``kept``)."""
        if node is not None:
            self.dropped.discard(node.info.name)
            self.watch = [n for n in self.watch if n is not node]
            if not kept:
                self.position[node.info.name] = self.next_position
                self.next_position += 1
        keys = [s.topology_key for s in self.state.shape.spreads]
        self.groups: dict[tuple[str, ...], list[tuple[float, int, _Node]]] = {}
        for name, position in self.position.items():
            member = self.state.nodes[name]
            domains = tuple(member.info.label(k) for k in keys)
            if None in domains or not self.open(member):
                continue  # a missing spread label or a node failing for good: never chosen
            heap = self.groups.setdefault(domains, [])  # type: ignore[arg-type]
            heap.append((self.share(member), position, member))
        self.heap: list[tuple[int, float, int, tuple[str, ...]]] = []
        for domains, heap in self.groups.items():
            heapq.heapify(heap)
            share, position, _ = heap[0]
            self.heap.append((self.crowd(domains), share, position, domains))
        heapq.heapify(self.heap)

    def share(self, node: _Node) -> float:
        return node.cpu / node.info.cpu_millis if node.info.cpu_millis else 1.0

    def crowd(self, domains: tuple[str, ...]) -> int:
        return sum(counts[d] for counts, d in zip(self.state.domains, domains, strict=True))

    def open(self, node: _Node) -> bool:
        """Passes NodeResourcesFit and both anti-affinity filters (what only a preemption lifts)."""
        shape, info = self.state.shape, node.info
        if node.pods + 1 > info.pods or node.anti or node.repels:
            return False
        if shape.cpu_millis and node.cpu + shape.cpu_millis > info.cpu_millis:
            return False
        return not (shape.memory and node.memory + shape.memory > info.memory)

    def spread_passes(self, domains: tuple[str, ...], floors: list[int]) -> bool:
        state = self.state
        for i, spread in enumerate(state.shape.spreads):
            if state.domains[i][domains[i]] + state.self_match[i] - floors[i] > spread.max_skew:
                return False
        return True

    def top(self, domains: tuple[str, ...]) -> tuple[float, int, _Node] | None:
        """The group's best open node, its stale and closed entries dropped."""
        heap = self.groups[domains]
        while heap:
            share, _, node = heap[0]
            if share == self.share(node) and self.open(node):
                return heap[0]
            heapq.heappop(heap)
        return None

    def best(self) -> _Node | None:
        floors = self.state.floors()
        if self.watch:
            self._drop_watched(floors)
        aside, chosen = [], None
        while self.heap:
            entry = heapq.heappop(self.heap)
            domains = entry[3]
            top = self.top(domains)
            if top is None:
                continue
            fresh = (self.crowd(domains), top[0], top[1], domains)
            if fresh != entry:
                heapq.heappush(self.heap, fresh)
                continue
            aside.append(entry)
            if self.spread_passes(domains, floors):
                chosen = top[2]
                break
        for entry in aside:
            heapq.heappush(self.heap, entry)
        return chosen

    def _drop_watched(self, floors: list[int]) -> None:
        still = []
        for node in self.watch:
            why = self.state.reasons(node, floors)
            if why and _PERMANENT.issuperset(why):
                self.dropped.add(node.info.name)
            else:
                still.append(node)
        self.watch = still

    def kept(self, node: _Node) -> bool:
        """Whether the scan's candidate list still holds ``node`` (before a preemption's evictions)."""
        name = node.info.name
        if name not in self.position or name in self.dropped:
            return False
        shape, info = self.state.shape, node.info
        short = (
            node.pods + 1 > info.pods
            or (shape.cpu_millis and node.cpu + shape.cpu_millis > info.cpu_millis)
            or (shape.memory and node.memory + shape.memory > info.memory)
        )
        return not short

    def place(self, node: _Node) -> None:
        """One instance on ``node``, the one :meth:`best` chose (whose group's entry :meth:`best` put
        back: with keys now too low, so it is checked again when it comes up)."""
        share = self.share(node)
        self.state.add(node, None)
        if self.share(node) != share:
            domains = tuple(node.info.label(s.topology_key) or "" for s in self.state.shape.spreads)
            heapq.heappush(self.groups[domains], (self.share(node), self.position[node.info.name], node))


def _preempt(
    state: _State,
    static: Mapping[str, str | None],
    pods: Pods,
    replacing: Selector | None,
    evicted: set[tuple[str, str]],
) -> tuple[_Node | None, list[Usage]]:
    """The node where evicting the fewest lower-priority pods (lowest first) makes room, and those
    pods (not taken off yet)."""
    choice: tuple[int, _Node, list[Usage]] | None = None
    namespace = state.shape.namespace
    for name, node in state.nodes.items():
        if static[name] is not None:
            continue
        victims = sorted(
            (
                p
                for p in pods.on(name)
                if p.priority < state.shape.priority
                and not (replacing is not None and p.namespace == namespace and p.matches(replacing))
                and (p.namespace, p.name) not in evicted
            ),
            key=lambda p: p.priority,
        )
        taken: list[Usage] = []
        while state.reasons(node) and victims:
            taken.append(victims.pop(0))
            state.add(node, taken[-1], -1)
        if taken and not state.reasons(node) and (choice is None or len(taken) < choice[0]):
            choice = (len(taken), node, taken)
        for pod in taken:
            state.add(node, pod)
    if choice is None:
        return None, []
    return choice[1], choice[2]


def _histogram(state: _State, static: Mapping[str, str | None]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for name, why in static.items():
        for reason in [why] if why else state.reasons(state.nodes[name]):
            counts[reason] = counts.get(reason, 0) + 1
    return counts


def _message(total: int, reasons: Mapping[str, int]) -> str:
    """The scheduler's FitError message (its filter part): reasons counted and sorted as strings."""
    listed = sorted(f"{count} {reason}" for reason, count in reasons.items())
    return f"0/{total} nodes are available: {', '.join(listed)}." if listed else f"0/{total} nodes are available."


def spare_by_cpu_model(
    nodes: Sequence[NodeInfo], used: Callable[[str], tuple[int, int, int]], shape: PodShape
) -> dict[str, int]:
    """How many instances of ``shape`` each CPU model's nodes could still take (resources, pods,
    taints and nodeSelector only), for choosing the model of an application (``cpu_model: auto``)."""
    state = _State(shape, ())
    spare: dict[str, int] = {}
    for node in nodes:
        model = node.label(CPU_MODEL_LABEL)
        if model is None or state.static_reason(node) is not None:
            continue
        cpu, memory, pods = used(node.name)
        room = node.pods - pods
        if shape.cpu_millis:
            room = min(room, (node.cpu_millis - cpu) // shape.cpu_millis)
        if shape.memory:
            room = min(room, (node.memory - memory) // shape.memory)
        spare[model] = spare.get(model, 0) + max(room, 0)
    return spare


SPARE_LIMIT = 1000  # instances: :func:`spare` places at most this many (the cost is instances × nodes)


def spare(
    nodes: Sequence[NodeInfo],
    pods: Pods,
    shape: PodShape,
    *,
    replacing: Selector | None = None,
    limit: int = SPARE_LIMIT,
) -> int:
    """How many instances of ``shape`` still fit on ``nodes`` (the pods ``replacing`` selects counted as
    room): :func:`place`, asked for as many as the nodes' free resources and pod slots could hold at
    most (capped at ``limit``), so spread and anti-affinity count as they do for the preview."""
    state = _State(shape, ())
    freed: dict[str, tuple[int, int, int]] = {}
    for pod in pods.in_namespace(shape.namespace):
        if pod.node and replacing is not None and pod.matches(replacing):
            cpu, memory, count = freed.get(pod.node, (0, 0, 0))
            freed[pod.node] = (cpu + pod.cpu_millis, memory + pod.memory, count + 1)
    bound = 0
    for node in nodes:
        if state.static_reason(node) is not None:
            continue
        cpu, memory, count = pods.used(node.name)
        back = freed.get(node.name, (0, 0, 0))
        room = node.pods - count + back[2]
        if shape.cpu_millis:
            room = min(room, (node.cpu_millis - cpu + back[0]) // shape.cpu_millis)
        if shape.memory:
            room = min(room, (node.memory - memory + back[1]) // shape.memory)
        bound += max(room, 0)
        if bound >= limit:
            break
    if bound == 0:
        return 0
    return place(nodes, pods, shape, min(bound, limit), replacing=replacing).fits
