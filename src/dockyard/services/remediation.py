"""Remediation: cordon and taint nodes with a kernel or hardware problem, within each pool's limit,
and give them back once the problem has stayed clear (domain/remediation.py decides; this applies).

Contracts:

- The policy (mode ``off`` / ``dry-run`` / ``on``, paused, the pool share, the quiet period) is the
  platform's, read and changed by admins only; its default is ``off``.
- One server applies it: each round claims the policy's lease (:data:`LEASE` seconds) first, so of
  several servers one acts and the others wait (:func:`run_remediation`).
- Nodes are read from the capacity watch caches; a node is changed by a read and a replace with its
  ``resourceVersion`` (a concurrent change is a conflict, retried at the next round), never by an
  apply that would own the node's taints. Dockyard marks the nodes it cordoned
  (:data:`~dockyard.domain.remediation.CORDONED_BY`) and uncordons only those.
- Every action taken (or in ``dry-run``, planned) and every node held back is written to the node's
  history and the audit trail (actor ``remediation``) when it changes, not at every round.
- Since when a given-back candidate has been clear is kept in the server's memory: a restart, or
  the lease moving to another server, starts the quiet period again (late, never early).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from dockyard.domain.access import Principal, require_admin
from dockyard.domain.audit import new_record
from dockyard.domain.capacity import NodeInfo
from dockyard.domain.clusters import Cluster
from dockyard.domain.errors import DomainError, InvalidInput
from dockyard.domain.failures import ClusterConflict, Failure
from dockyard.domain.placement import POOL_LABEL
from dockyard.domain.remediation import (
    CORDONED_BY,
    TAINT_KEY,
    Action,
    Instance,
    NodeState,
    Plan,
    Policy,
    Record,
    check_policy,
    clear_since,
    evictions,
    plan,
    problem_of,
)
from dockyard.services import audit
from dockyard.services.platform import Platform
from dockyard.services.workers import runner_id, woken

log = logging.getLogger(__name__)
LEASE = 30.0
ACTOR = "remediation"


# --- Use cases --------------------------------------------------------------------------------------


async def policy(platform: Platform, by: Principal) -> Policy:
    require_admin(by, "reading the remediation policy")
    async with platform.db.unit_of_work() as uow:
        return await uow.remediations.policy()


async def set_policy(
    platform: Platform, by: Principal, *, mode: str, paused: bool, max_share: float, quiet_seconds: float
) -> Policy:
    """Replace the policy; pausing takes effect at the applying server's next round."""
    require_admin(by, "changing the remediation policy")
    check_policy(mode, max_share, quiet_seconds)
    made = Policy(mode=mode, paused=paused, max_share=max_share, quiet_seconds=quiet_seconds, changed_by=by.name)  # type: ignore[arg-type]
    async with platform.db.unit_of_work() as uow:
        await uow.remediations.set_policy(made, now=dt.datetime.now(dt.UTC))
    platform.remediation_changed.set()
    return made


async def preview(platform: Platform, by: Principal) -> dict[str, Plan]:
    """What a round would do now on each cluster, whatever the mode (nothing is changed)."""
    require_admin(by, "previewing remediation")
    async with platform.db.unit_of_work() as uow:
        current = await uow.remediations.policy()
        clusters = await uow.clusters.all()
    wanted = Policy(
        mode="dry-run", paused=current.paused, max_share=current.max_share, quiet_seconds=current.quiet_seconds
    )
    out = {}
    for c in clusters:
        capacity = platform.live.capacity(c.name)
        if capacity.synced:
            out[c.name] = plan(states(capacity.nodes, {}), wanted, now=time.time())
    return out


async def history(
    platform: Platform, by: Principal, *, cluster: str | None = None, node: str | None = None, limit: int = 200
) -> list[Record]:
    require_admin(by, "reading remediation history")
    if not 1 <= limit <= 1000:
        raise InvalidInput("limit", "must be from 1 to 1000")
    async with platform.db.unit_of_work() as uow:
        return await uow.remediations.history(cluster=cluster, node=node, limit=limit)


# --- The loop ---------------------------------------------------------------------------------------


def states(nodes: Sequence[NodeInfo], clear: dict[str, float]) -> list[NodeState]:
    """The nodes as remediation sees them, with since when each given-back candidate has been clear."""
    out = []
    for n in nodes:
        ours = next((t.value or "problem" for t in n.taints if t.key == TAINT_KEY), "")
        out.append(NodeState(n.name, n.label(POOL_LABEL) or "", problem_of(n.problems), ours, clear.get(n.name)))
    return out


@dataclass
class Remediator:
    """One server's remediation rounds: what it remembers between them."""

    platform: Platform
    me: str = field(default_factory=runner_id)
    clear: dict[str, dict[str, float]] = field(default_factory=dict)  # cluster → node → clear since
    told: dict[tuple[str, str, str], str] = field(default_factory=dict)  # the last thing recorded of each

    async def round(self, *, now: float | None = None) -> dict[str, Plan]:
        """One round on every cluster whose caches have listed; the plans acted on ({} without the lease)."""
        at = time.time() if now is None else now
        stamp = dt.datetime.fromtimestamp(at, dt.UTC)
        async with self.platform.db.unit_of_work() as uow:
            current = await uow.remediations.policy()
        if current.mode == "off":  # nothing to apply nor record: no lease taken, nothing written
            return {}
        async with self.platform.db.unit_of_work() as uow:
            if not await uow.remediations.claim(self.me, seconds=LEASE, now=stamp):
                return {}
            current = await uow.remediations.policy()
            clusters = await uow.clusters.all()
        plans = {}
        for c in clusters:
            capacity = self.platform.live.capacity(c.name)
            if not capacity.synced:
                continue
            seen = states(capacity.nodes, {})
            self.clear[c.name] = clear_since(self.clear.get(c.name, {}), seen, now=at)
            made = plan(states(capacity.nodes, self.clear[c.name]), current, now=at)
            plans[c.name] = made
            for action in made.actions:
                outcome = "planned (dry-run)"
                if current.mode == "on":
                    outcome = await self._apply(c, action)
                    if action.kind == "give-back" and outcome == "done":
                        self.clear[c.name].pop(action.node, None)
                await self._note(c.name, action.node, action.kind, action.reason, current.mode, outcome, stamp)
            for held in made.held:
                await self._note(c.name, held.node, "held", held.problem, current.mode, held.why, stamp)
            if current.mode != "off" and not current.paused:
                await self._move_off(c, made, current.mode, stamp)
        return plans

    async def _move_off(self, cluster: Cluster, made: Plan, mode: str, at: dt.datetime) -> None:
        """Evict the instances on taken nodes, each group within its budget (the Deployment's
        controller starts their replacements elsewhere: the node is cordoned and tainted)."""
        taken = {
            n.name for n in self.platform.live.capacity(cluster.name).nodes if any(t.key == TAINT_KEY for t in n.taints)
        }
        taken |= {a.node for a in made.actions if a.kind == "take"}
        if not taken:
            return
        instances = [
            Instance(p.namespace, p.name, "/".join(p.key), p.node, p.ready, p.deleting)
            for p in self.platform.live.instances(cluster.name)
        ]
        evict, waiting = evictions(taken, instances)
        for i in evict:
            outcome = "planned (dry-run)"
            if mode == "on":
                outcome = await self._evict(cluster, i)
            await self._note(cluster.name, i.node, "evict", f"{i.namespace}/{i.name}", mode, outcome, at, about=i.name)
        for i, why in waiting:
            await self._note(cluster.name, i.node, "held", f"evict {i.namespace}/{i.name}", mode, why, at, about=i.name)

    async def _apply(self, cluster: Cluster, action: Action) -> str:
        try:
            client = await self.platform.clusters.client(cluster)
            node = await client.get("v1", "Node", action.node)
            changed = _taken(node, action.reason) if action.kind == "take" else _given_back(node)
            if changed is not None:
                await client.replace(changed)
        except ClusterConflict:
            return "conflict: the node changed meanwhile (next round)"
        except Failure as e:
            return f"failed: {e}"[:500]
        return "done"

    async def _evict(self, cluster: Cluster, instance: Instance) -> str:
        try:
            client = await self.platform.clusters.client(cluster)
            evicted = await client.evict(instance.name, namespace=instance.namespace)
        except Failure as e:
            return f"failed: {e}"[:500]
        return "done" if evicted else "refused by a budget"

    async def _note(
        self,
        cluster: str,
        node: str,
        kind: str,
        reason: str,
        mode: str,
        outcome: str,
        at: dt.datetime,
        *,
        about: str = "",
    ) -> None:
        """Record a line of the node's history and the audit trail, unless it says what was last said."""
        said = f"{kind}|{reason}|{mode}|{outcome}"
        key = (cluster, node, about)  # about: the instance an eviction line is of ("" the node itself)
        if self.told.get(key) == said:
            return
        self.told[key] = said
        async with self.platform.db.unit_of_work() as uow:
            await uow.remediations.record(cluster, node, kind=kind, reason=reason, mode=mode, outcome=outcome, now=at)
        record = new_record(
            at=at,
            actor=ACTOR,
            source_ip="",
            request_id="",
            method="",
            action=f"remediation_{kind.replace('-', '_')}",
            target={"cluster": cluster, "node": node},
            outcome="allowed" if outcome in ("done", "planned (dry-run)") else "error",
            status=0,
            reason=outcome,
            changes={"mode": mode, "reason": reason},
        )
        await audit.record(self.platform, record)


def _taken(node: dict[str, Any], value: str) -> dict[str, Any] | None:
    """The node cordoned (marked as by Dockyard unless it already was) and tainted; None if it is."""
    spec = node.setdefault("spec", {})
    taints = spec.setdefault("taints", [])
    if any(t.get("key") == TAINT_KEY for t in taints) and spec.get("unschedulable"):
        return None
    if not any(t.get("key") == TAINT_KEY for t in taints):
        taints.append({"key": TAINT_KEY, "value": value, "effect": "NoSchedule"})
    if not spec.get("unschedulable"):
        spec["unschedulable"] = True
        node.setdefault("metadata", {}).setdefault("annotations", {})[CORDONED_BY] = "dockyard"
    return node


def _given_back(node: dict[str, Any]) -> dict[str, Any] | None:
    """Dockyard's taint removed, uncordoned if Dockyard cordoned it; None if there is nothing to undo."""
    spec = node.setdefault("spec", {})
    annotations = node.setdefault("metadata", {}).setdefault("annotations", {}) or {}
    taints = spec.get("taints") or []
    kept = [t for t in taints if t.get("key") != TAINT_KEY]
    ours = annotations.pop(CORDONED_BY, None) is not None
    if len(kept) == len(taints) and not ours:
        return None
    spec["taints"] = kept
    if ours:
        spec["unschedulable"] = False
    return node


async def run_remediation(platform: Platform, *, poll: float = 10.0) -> None:
    """Rounds every ``poll`` seconds (at once when the policy changes) until cancelled."""
    remediator = Remediator(platform)
    while True:
        platform.remediation_changed.clear()
        try:
            await remediator.round()
        except (DomainError, Failure) as e:
            log.warning("remediation: %s", e)
        await woken(platform.remediation_changed, poll)
