"""How an operation splits a group's instances over its clusters, and which of them answer.

:func:`split` reads the spare capacity from the watch caches (:mod:`dockyard.services.capacity`), so the
preview and deploy's fit check compute the split an operation will use; :func:`reachable` asks each
cluster's apiserver (operations only). A cluster that does not answer is *away*: it keeps the instances
and the version it had (the group shows degraded for it), and the instances left are split over the
clusters that answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

from dockyard.domain.failures import ClusterFailure, ClusterUnavailable
from dockyard.domain.location import distribute
from dockyard.domain.model import GroupCluster
from dockyard.domain.versions import VersionSpec
from dockyard.domain.where import Where
from dockyard.services.capacity import SpareCapacity
from dockyard.services.ports import ClusterClient

ClientOf = Callable[[str], Awaitable[ClusterClient]]
PROBES = 3
PROBE_PAUSE = 1.0


async def reachable(client_of: ClientOf, clusters: tuple[str, ...]) -> tuple[list[str], dict[str, str]]:
    """The clusters whose apiserver answers (tried :data:`PROBES` times), and why the others do not.
    When none answers, all are returned as answering: an operation then waits for them within its
    deadline, as it does on one cluster (skipping is for not blocking the others)."""
    if len(clusters) <= 1:
        return list(clusters), {}

    async def probe(name: str) -> str:
        why = ""
        for attempt in range(PROBES):
            try:
                kube = await client_of(name)
                await kube.get("v1", "Namespace", "default")
                return ""
            except ClusterUnavailable as e:
                why = str(e) or "the apiserver does not answer"
            except ClusterFailure as e:
                return str(e) or "it cannot be used"
            if attempt + 1 < PROBES:
                await asyncio.sleep(PROBE_PAUSE)
        return why

    answers = await asyncio.gather(*(probe(n) for n in clusters))
    away = {n: why for n, why in zip(clusters, answers, strict=True) if why}
    if len(away) == len(clusters):
        return list(clusters), {}
    return [n for n in clusters if n not in away], away


async def split(
    *,
    where: Where,
    spec: VersionSpec,
    up: list[str],
    away: Mapping[str, str],
    parts: tuple[GroupCluster, ...],
    capacity: SpareCapacity,
) -> dict[str, int]:
    """Instances per cluster of ``where``: an away cluster keeps its count; fixed counts (or weights)
    as given; else proportional to each answering cluster's spare capacity for the version, counting
    the group's own instances there as room it can reuse."""
    before = {p.cluster: p.instances for p in parts}
    kept = {n: before.get(n, 0) for n in where.clusters if n in away}
    left = max(0, spec.instances - sum(kept.values()))
    if where.fixed is not None:
        counts = distribute(spec.instances, where.fixed, fixed=True)
        if not kept:
            return counts
        return {**kept, **distribute(left, {n: where.fixed[n] for n in up}, fixed=False)}
    if len(up) <= 1:
        return {**kept, **{n: left for n in up}}
    room = {name: await capacity.instances_that_fit(name, spec) for name in up}
    return {**kept, **distribute(left, room)}
