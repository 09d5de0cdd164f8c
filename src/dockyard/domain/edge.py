"""The edge load balancer's route of a group (pure): which instances it sends requests to, with which
weights, and how it checks them.

A group with an edge entry (:class:`EdgeEntry`: which of its version's ports to serve) gets one route
on the edge load balancer, matched by the group's **global name** (:func:`~dockyard.domain.discovery.global_name`,
``<group>.<app>.<system>.dockyard.internal``), sending requests to its serving instances: Ready, not
being deleted, with a pod IP, and of a version that has the entry's port. :func:`edge_route` decides it:

- **weights**: without a weight set for the release under way (``share`` None), every instance weighs
  the same (requests follow instance counts). With a share P (the new version's percent of
  requests), the new version's instances together get P % and the others 100 − P %, whatever their
  counts: each new instance weighs ``P × stable``, each other ``(100 − P) × new``, divided by their
  greatest common divisor. When the side that should get requests has no serving instance, the other
  side gets them all (answering beats a 503); share 0 sends nothing to the new version, 100 nothing
  to the others.
- **draining**: an instance being deleted is left out at once, while its preStop sleep
  (:data:`DRAIN_SECONDS`, rendered by domain/render.py) keeps it serving what it already has.
- **health**: the balancer checks each instance on its readiness path when every version in the route
  has an HTTP readiness probe with the same path and port; otherwise it relies on passive checks (and
  on Kubernetes' readiness, which takes an instance out of the route).
- no serving instance: the route stays (the host still belongs to the group) and answers 503.

The share comes from the release's weight steps: :func:`dockyard.domain.release.edge_share`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from dockyard.domain import names
from dockyard.domain.discovery import global_name
from dockyard.domain.errors import InvalidInput
from dockyard.domain.live import PodRecord
from dockyard.domain.model import GroupPath
from dockyard.domain.versions import VersionSpec

# How long an instance being deleted keeps serving before its container is told to stop: the edge
# drops it within about a second of the deletion (watch → sync → runtime API), in-flight requests end.
DRAIN_SECONDS = 5


@dataclass(frozen=True)
class EdgeEntry:
    """A group's edge entry: the name of the version's port the edge serves ("": its port named
    ``http``, else its first TCP port)."""

    port: str = ""


def new_edge_entry(port: str = "") -> EdgeEntry:
    """An edge entry from user input; :class:`InvalidInput` on ``port``."""
    if port:
        names.port_name("port", port)
    return EdgeEntry(port=port)


@dataclass(frozen=True, order=True)
class Upstream:
    """One instance the edge sends requests to: ``ip:port``, its weight, its version."""

    version: int
    address: str
    weight: int


@dataclass(frozen=True)
class HealthCheck:
    """An HTTP GET of ``path`` on ``port`` of each instance (its readiness probe)."""

    path: str
    port: int


@dataclass(frozen=True)
class EdgeRoute:
    """A group's route on the edge: requests for ``host`` go to ``upstreams`` (empty: 503)."""

    group: GroupPath
    host: str
    upstreams: tuple[Upstream, ...]
    health: HealthCheck | None


def serving_port(spec: VersionSpec, entry: EdgeEntry) -> int | None:
    """The port number the edge serves of a version: the entry's port by name (TCP only), or with no
    name the TCP port named ``http``, else the first TCP port; None when the version has none."""
    tcp = [p for p in spec.ports if p.protocol == "TCP"]
    if entry.port:
        return next((p.port for p in tcp if p.name == entry.port), None)
    named = next((p.port for p in tcp if p.name == "http"), None)
    return named if named is not None else (tcp[0].port if tcp else None)


def edge_route(
    group: GroupPath,
    entry: EdgeEntry,
    *,
    instances: Iterable[PodRecord],
    versions: Mapping[int, VersionSpec],
    new_version: int | None = None,
    share: int | None = None,
) -> EdgeRoute:
    """The group's route (see the module docstring). ``versions`` holds the spec of each version the
    instances may run (an instance of another version is left out); ``new_version`` is the version a
    release under way brings, ``share`` its percent of requests (None: by instance counts)."""
    serving: list[tuple[int, str]] = []
    used: set[int] = set()
    for pod in instances:
        if not pod.ready or pod.deleting or not pod.pod_ip or not pod.version.isdigit():
            continue
        number = int(pod.version)
        spec = versions.get(number)
        port = serving_port(spec, entry) if spec is not None else None
        if port is None:
            continue
        serving.append((number, f"{pod.pod_ip}:{port}"))
        used.add(number)
    weights = _weights(serving, new_version, share)
    upstreams = tuple(sorted(Upstream(v, a, w) for (v, a), w in zip(serving, weights, strict=True) if w > 0))
    kept = {u.version for u in upstreams}
    return EdgeRoute(group, global_name(group), upstreams, _health({n: versions[n] for n in sorted(used & kept)}))


def _weights(serving: list[tuple[int, str]], new_version: int | None, share: int | None) -> list[int]:
    if share is None or new_version is None:
        return [1] * len(serving)
    if not 0 <= share <= 100:
        raise ValueError(f"a share is a percent (got {share})")
    new = sum(1 for v, _ in serving if v == new_version)
    old = len(serving) - new
    if new == 0 or old == 0:
        return [1] * len(serving)  # one side only: it takes every request, whatever the share
    new_weight, old_weight = share * old, (100 - share) * new
    divisor = math.gcd(new_weight, old_weight)
    return [(new_weight if v == new_version else old_weight) // divisor for v, _ in serving]


def _health(versions: Mapping[int, VersionSpec]) -> HealthCheck | None:
    checks = {
        (spec.readiness.path, spec.readiness.port) if spec.readiness and spec.readiness.path else None
        for spec in versions.values()
    }
    if len(checks) != 1:
        return None
    only = checks.pop()
    return HealthCheck(*only) if only else None


def check_entry_port(entry: EdgeEntry, spec: VersionSpec | None) -> None:
    """:class:`InvalidInput` on ``port`` when the group's current version has no such TCP port (a
    group with no version yet may name any)."""
    if spec is not None and serving_port(spec, entry) is None:
        what = f"TCP port named {entry.port!r}" if entry.port else "TCP port"
        raise InvalidInput("port", f"the group's current version has no {what} for the edge to serve")


@dataclass(frozen=True)
class EdgeWrite:
    """What one sync wrote to the balancer: routes added, changed and removed, ``full`` when it held
    something else than what Dockyard last wrote (a restarted balancer: everything written again), and
    how many ``commands`` it took."""

    added: int = 0
    changed: int = 0
    removed: int = 0
    full: bool = False
    commands: int = 0

    @property
    def wrote(self) -> bool:
        return self.full or bool(self.added or self.changed or self.removed)
