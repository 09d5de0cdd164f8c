"""Remediation of nodes with a kernel or hardware problem: which to cordon and taint, which to give
back, and which to hold back; pure, over what the node watch cache holds.

A node has a problem when it carries a node-problem-detector condition (``True``, not one of the
kubelet's own: :data:`~dockyard.domain.inspection.KUBELET_CONDITIONS`). :func:`plan` decides, per
cluster, round after round:

- **take**: a node with a problem and without Dockyard's taint is cordoned and tainted
  ``dockyard.io/problem=<condition>:NoSchedule`` — unless its pool already has as many nodes taken as
  the policy allows at once (``max(1, floor(max_share × pool size))``, 49 % by default: at least 51 %
  stays healthy, as NodeHealthCheck's ``minHealthy``); those are **held** and reported;
- **give back**: a node holding Dockyard's taint whose problem has been clear for ``quiet_seconds``
  (``clear_since``, kept by the caller) is untainted and uncordoned; a problem that comes back before
  that restarts the wait, so a flapping condition never flaps the taint;
- a **paused** policy, or mode ``off``, takes and gives back nothing (the would-be actions are held
  with the reason); mode ``dry-run`` plans the same actions, which the caller records but does not apply.

Nodes are taken in name order, so two servers planning the same state plan the same actions.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from dockyard.domain.errors import InvalidInput
from dockyard.domain.inspection import KUBELET_CONDITIONS
from dockyard.domain.render import DISRUPTION_BUDGET

TAINT_KEY = "dockyard.io/problem"
CORDONED_BY = "dockyard.io/cordoned-by"  # annotation: Dockyard cordoned the node (so it may uncordon it)
Mode = Literal["off", "dry-run", "on"]
MODES: tuple[Mode, ...] = ("off", "dry-run", "on")
_LABEL_VALUE = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True)
class Policy:
    mode: Mode = "off"
    paused: bool = False
    max_share: float = 0.49
    quiet_seconds: float = 300.0
    changed_by: str = ""


@dataclass(frozen=True)
class NodeState:
    """A node as remediation sees it: its pool, its first problem (a condition type, "" none), the
    value of Dockyard's taint on it ("" none), and since when its problem has been clear (Unix
    seconds; None while it has one or when it holds no taint)."""

    name: str
    pool: str = ""
    problem: str = ""
    tainted: str = ""
    clear_since: float | None = None


@dataclass(frozen=True)
class Action:
    node: str
    kind: Literal["take", "give-back"]
    reason: str  # the taint's value (the condition), or why it is given back


@dataclass(frozen=True)
class Held:
    node: str
    problem: str
    why: str


@dataclass(frozen=True)
class Plan:
    actions: list[Action]
    held: list[Held]


def check_policy(mode: str, max_share: float, quiet_seconds: float) -> None:
    """InvalidInput naming ``mode``, ``max_share`` or ``quiet_seconds``."""
    if mode not in MODES:
        raise InvalidInput("mode", f"must be one of {', '.join(MODES)}")
    if not isinstance(max_share, int | float) or not 0.0 < max_share < 1.0:
        raise InvalidInput("max_share", "must be above 0 and below 1 (0.49 keeps at least 51% of a pool healthy)")
    if not isinstance(quiet_seconds, int | float) or not 0 <= quiet_seconds <= 7 * 86400:
        raise InvalidInput("quiet_seconds", "must be from 0 to 604800 (a week)")


def problem_of(problems: Sequence[tuple[str, str, str]]) -> str:
    """The first node-problem-detector condition among a node's problem conditions ("" none)."""
    for kind, _, _ in problems:
        if kind not in KUBELET_CONDITIONS:
            return kind
    return ""


def taint_value(problem: str) -> str:
    """The taint's value for a condition type: a label value (63 characters of ``[A-Za-z0-9._-]``)."""
    return _LABEL_VALUE.sub("-", problem)[:63].strip("-._") or "problem"


def budget(pool_size: int, max_share: float) -> int:
    """How many nodes of a pool may be taken at once: ``max(1, floor(max_share × size))``."""
    return max(1, math.floor(max_share * pool_size + 1e-9))


def plan(nodes: Sequence[NodeState], policy: Policy, *, now: float) -> Plan:
    """What to do with ``nodes`` (one cluster's) now (see the module docstring)."""
    actions: list[Action] = []
    held: list[Held] = []
    by_pool: dict[str, list[NodeState]] = {}
    for n in nodes:
        by_pool.setdefault(n.pool, []).append(n)
    stopped = "remediation is paused" if policy.paused else ("remediation is off" if policy.mode == "off" else "")
    for pool in sorted(by_pool):
        members = sorted(by_pool[pool], key=lambda n: n.name)
        allowed = budget(len(members), policy.max_share)
        taken = sum(1 for n in members if n.tainted)
        for n in members:
            if (
                n.tainted
                and not n.problem
                and n.clear_since is not None
                and now - n.clear_since >= policy.quiet_seconds
            ):
                if stopped:
                    held.append(Held(n.name, "", f"would give back: {stopped}"))
                else:
                    actions.append(Action(n.name, "give-back", f"clear for {now - n.clear_since:.0f}s"))
        for n in members:
            if not n.problem or n.tainted:
                continue
            if stopped:
                held.append(Held(n.name, n.problem, stopped))
            elif taken >= allowed:
                held.append(
                    Held(
                        n.name,
                        n.problem,
                        f"pool {pool or '(none)'}: {taken} of {len(members)} nodes "
                        f"already taken, at most {allowed} at once",
                    )
                )
            else:
                actions.append(Action(n.name, "take", taint_value(n.problem)))
                taken += 1
    return Plan(actions, held)


def clear_since(previous: dict[str, float], nodes: Sequence[NodeState], *, now: float) -> dict[str, float]:
    """Since when each tainted node's problem has been clear: kept from ``previous`` while it stays
    clear, ``now`` when first seen clear, dropped when the problem is back or the taint gone."""
    out = {}
    for n in nodes:
        if n.tainted and not n.problem:
            out[n.name] = previous.get(n.name, now)
    return out


@dataclass(frozen=True)
class Record:
    """One line of a node's remediation history: an action taken (mode ``on``), one that would have
    been (``dry-run``), or a node held back (kind ``held``); ``outcome`` says how it went."""

    id: int
    cluster: str
    node: str
    kind: str  # take | give-back | held
    reason: str
    mode: str
    outcome: str
    at: dt.datetime


# --- Moving instances off taken nodes -----------------------------------------------------------------


@dataclass(frozen=True)
class Instance:
    """A Dockyard instance as the instance cache shows it: its group (``system/app/group``), node,
    and whether it is ready or being deleted."""

    namespace: str
    name: str
    group: str
    node: str
    ready: bool
    deleting: bool


def evictions(
    taken: set[str], instances: Sequence[Instance], *, unavailable: int = DISRUPTION_BUDGET
) -> tuple[list[Instance], list[tuple[Instance, str]]]:
    """Which instances on ``taken`` nodes to evict now, and which wait (with why): per group, at most
    ``unavailable`` instances may be not ready at once (being deleted or not yet ready counts), so a
    group never drops below its ready count minus that budget; the replacement must be ready before
    the next one goes. Instances are taken in name order. The group's PodDisruptionBudget (the same
    budget, :func:`~dockyard.domain.render.disruption_budget`) makes the Eviction API hold to it too,
    also against evictions that are not Dockyard's."""
    by_group: dict[str, list[Instance]] = {}
    for i in instances:
        by_group.setdefault(i.group, []).append(i)
    evict: list[Instance] = []
    held: list[tuple[Instance, str]] = []
    for group in sorted(by_group):
        members = sorted(by_group[group], key=lambda i: i.name)
        down = sum(1 for i in members if i.deleting or not i.ready)
        for i in members:
            if i.node not in taken or i.deleting:
                continue
            if not i.ready:  # already down: moving it costs the group nothing
                evict.append(i)
            elif down < unavailable:
                evict.append(i)
                down += 1
            else:
                held.append((i, f"group {group}: {down} instance(s) not ready, {unavailable} allowed"))
    return evict, held
