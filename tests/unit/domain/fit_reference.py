"""The placement preview's fit as first written: every candidate node scanned for every instance.

Kept verbatim (from ``domain/fit.py`` before the heap) as the reference the property test and
``bench/fit_micro.py`` compare :func:`dockyard.domain.fit.place` with: same answers, by construction slower.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from dockyard.domain.capacity import NodeInfo, PodShape, Usage
from dockyard.domain.fit import (
    _PERMANENT,
    _UNSCHEDULABLE_TAINT,
    ANTI,
    EXISTING_ANTI,
    NO_CPU,
    NO_MEMORY,
    SELECTOR,
    SPREAD,
    SPREAD_LABEL,
    TAINTED,
    TOO_MANY_PODS,
    UNSCHEDULABLE,
    Fit,
    Pods,
    _message,
)


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

    def static_reason(self, node: NodeInfo) -> str | None:
        shape = self.shape
        if node.unschedulable and not any(t.tolerates(_UNSCHEDULABLE_TAINT) for t in shape.tolerations):
            return UNSCHEDULABLE
        for taint in node.taints:
            if taint.effect in ("NoSchedule", "NoExecute") and not any(t.tolerates(taint) for t in shape.tolerations):
                return TAINTED
        if any(node.label(k) != v for k, v in shape.node_selector):
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

    def score(self, node: _Node) -> tuple[int, float]:
        crowd = 0
        for i, spread in enumerate(self.shape.spreads):
            crowd += self.domains[i].get(node.info.label(spread.topology_key) or "", 0)
        return crowd, node.cpu / node.info.cpu_millis if node.info.cpu_millis else 1.0


def place(
    nodes: Sequence[NodeInfo],
    pods: Pods,
    shape: PodShape,
    count: int,
    *,
    replacing: Callable[[Usage], bool] = lambda _: False,
) -> Fit:
    """Place ``count`` instances of ``shape`` on ``nodes`` holding ``pods``, as if the pods
    ``replacing`` selects (the group's current instances, which the new ones replace) were gone.

    Cost: the nodes, and the pods of the shape's namespace; the pods of a node only when preempting."""
    state = _State(shape, nodes)
    for node in state.nodes.values():
        node.cpu, node.memory, node.pods = pods.used(node.info.name)
    static = {n.name: state.static_reason(n) for n in nodes}
    affine = {n.name for n in nodes if not any(n.label(k) != v for k, v in shape.node_selector)}
    for i, spread in enumerate(shape.spreads):
        for name in affine:
            domain = state.nodes[name].info.label(spread.topology_key)
            if domain is not None:
                state.domains[i].setdefault(domain, 0)
    for pod in pods.in_namespace(shape.namespace):
        holder = state.nodes.get(pod.node)
        if holder is None:
            continue  # pending, or on a node not known (yet)
        if replacing(pod):
            holder.cpu, holder.memory, holder.pods = (
                holder.cpu - pod.cpu_millis,
                holder.memory - pod.memory,
                holder.pods - 1,
            )
        elif pod.node in affine:
            state.select(holder, pod)
    candidates = [state.nodes[n] for n, why in static.items() if why is None]
    placed: dict[str, int] = {}
    preempted = 0
    evicted: set[tuple[str, str]] = set()
    for done in range(count):
        best = _best(state, candidates)
        if best is None and shape.preempts and shape.priority > 0:
            best, victims = _preempt(state, candidates, pods, replacing, evicted)
            preempted += victims
        if best is None:
            reasons = _histogram(state, static)
            return Fit(count, done, placed, _message(len(nodes), reasons), reasons, preempted)
        state.add(best, None)
        placed[best.info.name] = placed.get(best.info.name, 0) + 1
    return Fit(count, count, placed, "", {}, preempted)


def _best(state: _State, candidates: list[_Node]) -> _Node | None:
    best, best_score, keep = None, (0, 0.0), []
    floors = state.floors()
    for node in candidates:
        why = state.reasons(node, floors)
        if why:
            if not _PERMANENT.issuperset(why):
                keep.append(node)
            continue
        keep.append(node)
        score = state.score(node)
        if best is None or score < best_score:
            best, best_score = node, score
    candidates[:] = keep  # a node short of room, or holding a repelling pod, stays so
    return best


def _preempt(
    state: _State,
    candidates: list[_Node],
    pods: Pods,
    replacing: Callable[[Usage], bool],
    evicted: set[tuple[str, str]],
) -> tuple[_Node | None, int]:
    """The node where evicting the fewest lower-priority pods (lowest first) makes room; those are
    taken off it (and remembered in ``evicted``). Returns the node and how many were evicted."""
    choice: tuple[int, _Node, list[Usage]] | None = None
    for name, node in state.nodes.items():
        if state.static_reason(node.info) is not None:
            continue
        victims = sorted(
            (
                p
                for p in pods.on(name)
                if p.priority < state.shape.priority and not replacing(p) and (p.namespace, p.name) not in evicted
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
        return None, 0
    _, node, taken = choice
    for pod in taken:
        state.add(node, pod, -1)
        evicted.add((pod.namespace, pod.name))
    if node not in candidates:
        candidates.append(node)
    return node, len(taken)


def _histogram(state: _State, static: Mapping[str, str | None]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for name, why in static.items():
        for reason in [why] if why else state.reasons(state.nodes[name]):
            counts[reason] = counts.get(reason, 0) + 1
    return counts
