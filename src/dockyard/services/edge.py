"""The edge load balancer: which groups have an entry (use cases of the API), and the loop that keeps
the balancer's routes in step with the groups' live instances.

Entries: :func:`set_edge` and :func:`remove_edge` are group writes (``deploy`` right), recorded in
the group's history; :func:`edge_status` (``read``) shows the route as the live view makes it now.
A group may have an entry whatever the balancer: with none configured, nothing is served.

Contract of :func:`run_edge`: every ``every`` seconds it computes every group's route
(domain/edge.py) from the database's facts — the groups with an entry, their releases under way
(reloaded every ``refresh`` seconds, or at once when an entry changes in this process) and their
versions' specs (immutable: loaded once, when an instance of the version is first seen) — and the
instances in the watch caches (read every round), and hands them to the balancer, which writes only
what differs from what it holds. So an instance turning Ready, not ready or being deleted reaches the
balancer within ``every`` seconds of the watch seeing it; a weight step within ``refresh``; a
restarted balancer is written again within its adapter's check interval. A balancer or database
failure is logged (once per distinct message) and the next round tries again. Every server runs the
loop: the same view gives the same routes, and the writes are idempotent.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from dockyard.domain.access import Principal, authorize
from dockyard.domain.discovery import global_name
from dockyard.domain.edge import (
    EdgeEntry,
    EdgeRoute,
    check_entry_port,
    edge_route,
    new_edge_entry,
)
from dockyard.domain.errors import DomainError
from dockyard.domain.failures import Failure
from dockyard.domain.live import PodRecord
from dockyard.domain.model import Group, GroupPath
from dockyard.domain.release import Release, edge_share
from dockyard.domain.versions import VersionSpec
from dockyard.services.applications import found_group, record
from dockyard.services.platform import Platform
from dockyard.services.ports import UnitOfWork
from dockyard.services.workers import woken

log = logging.getLogger(__name__)
Specs = dict[GroupPath, dict[int, VersionSpec]]  # each group's versions by number (immutable: kept)
EVERY = 0.5  # seconds between rounds: how soon a readiness change reaches the balancer
REFRESH = 1.0  # seconds between reloads of the entries and releases (a weight step, another replica's change)


@dataclass(frozen=True)
class EdgeView:
    """A group's global name, its edge entry (None: none) and its route as the live view makes it now
    (None without an entry); ``balancer`` says whether this server has a balancer configured at all."""

    group: GroupPath
    host: str
    entry: EdgeEntry | None
    route: EdgeRoute | None
    balancer: bool


async def set_edge(platform: Platform, by: Principal, path: GroupPath, *, port: str = "") -> EdgeView:
    """Give the group an edge entry serving ``port`` ("": its port named http, else its first TCP
    port); :class:`InvalidInput` on ``port`` when the group's current version has no such port."""
    authorize(by, "deploy", path.system, path.app)
    entry = new_edge_entry(port)
    async with platform.db.unit_of_work() as uow:
        group = await found_group(uow, path)
        current = await uow.versions.get(path, group.current_version) if group.current_version else None
        check_entry_port(entry, current.spec if current else None)
        await uow.groups.set_edge(path, entry.port)
        await uow.operations.add(record("set-edge", by, path))
    platform.edge_changed.set()
    return await edge_status(platform, by, path)


async def remove_edge(platform: Platform, by: Principal, path: GroupPath) -> bool:
    """Take the group off the edge (its route goes at the next round); False if it had no entry."""
    authorize(by, "deploy", path.system, path.app)
    async with platform.db.unit_of_work() as uow:
        group = await found_group(uow, path)
        if group.edge_port is None:
            return False
        await uow.groups.set_edge(path, None)
        await uow.operations.add(record("remove-edge", by, path))
    platform.edge_changed.set()
    return True


async def edge_status(platform: Platform, by: Principal, path: GroupPath) -> EdgeView:
    """The group's global name, entry and route now (reads the watch caches, never the balancer)."""
    authorize(by, "read", path.system, path.app)
    balancer = platform.edge is not None
    async with platform.db.unit_of_work() as uow:
        group = await found_group(uow, path)
        if group.edge_port is None:
            return EdgeView(path, global_name(path), None, None, balancer)
        release = next((r for r in await uow.releases.of_group(path, limit=1) if r.active), None)
        pods = _instances(platform, group)
        versions: Specs = {}
        await _load_versions(uow, group, pods, versions)
    route = _route(group, pods, versions, release)
    return EdgeView(path, route.host, EdgeEntry(group.edge_port), route, balancer)


# --- the sync loop ----------------------------------------------------------------------------------


@dataclass
class _Facts:
    """What the loop knows of the database: entries and releases as of ``loaded``, version specs."""

    groups: list[Group] = field(default_factory=list)
    releases: dict[GroupPath, Release] = field(default_factory=dict)
    versions: Specs = field(default_factory=dict)
    loaded: float = float("-inf")


async def run_edge(platform: Platform, *, every: float = EVERY, refresh: float = REFRESH) -> None:
    """Keep the balancer's routes in step until cancelled (see the module docstring); returns at once
    when no balancer is configured."""
    if platform.edge is None:
        return
    facts = _Facts()
    last_error = ""
    while True:
        try:
            await sync_once(platform, facts, refresh=refresh)
            last_error = ""
        except (DomainError, Failure) as e:
            if str(e) != last_error:
                log.warning("edge sync: %s (will retry)", e)
            last_error = str(e)
        await woken(platform.edge_changed, every)


async def sync_once(platform: Platform, facts: _Facts | None = None, *, refresh: float = REFRESH) -> list[EdgeRoute]:
    """One round: reload the database's facts if ``refresh`` seconds passed (or an entry changed),
    compute every route and hand them to the balancer; the routes handed."""
    assert platform.edge is not None
    facts = facts if facts is not None else _Facts()
    if platform.edge_changed.is_set() or time.monotonic() - facts.loaded >= refresh:
        platform.edge_changed.clear()  # before reading: a change after the read sets it again
        async with platform.db.unit_of_work() as uow:
            facts.groups = await uow.groups.with_edge()
            with_entry = {g.path for g in facts.groups}
            facts.releases = {r_path: r for r in await uow.releases.active() if (r_path := _path(r)) in with_entry}
        facts.loaded = time.monotonic()
    routes = []
    pods_of = {g.path: _instances(platform, g) for g in facts.groups}
    if any(_unknown(g, pods_of[g.path], facts.versions) for g in facts.groups):
        async with platform.db.unit_of_work() as uow:
            for group in facts.groups:
                await _load_versions(uow, group, pods_of[group.path], facts.versions)
    for group in facts.groups:
        routes.append(_route(group, pods_of[group.path], facts.versions, facts.releases.get(group.path)))
    await platform.edge.apply(routes)
    return routes


def _path(release: Release) -> GroupPath:
    return GroupPath(release.system, release.app, release.group)


def _instances(platform: Platform, group: Group) -> list[PodRecord]:
    clusters = dict.fromkeys([group.cluster, *(c.cluster for c in group.clusters)])
    return [pod for cluster in clusters for pod in platform.live.pods(cluster, group.path)]


def _numbers(pods: Iterable[PodRecord]) -> set[int]:
    return {int(p.version) for p in pods if p.version.isdigit()}


def _unknown(group: Group, pods: list[PodRecord], versions: Specs) -> bool:
    known = versions.get(group.path, {})
    return any(n not in known for n in _numbers(pods))


async def _load_versions(uow: UnitOfWork, group: Group, pods: list[PodRecord], versions: Specs) -> None:
    known = versions.setdefault(group.path, {})
    for number in sorted(_numbers(pods)):
        if number not in known and (found := await uow.versions.get(group.path, number)):
            known[number] = found.spec


def _route(group: Group, pods: list[PodRecord], versions: Specs, release: Release | None) -> EdgeRoute:
    return edge_route(
        group.path,
        EdgeEntry(group.edge_port or ""),
        instances=pods,
        versions=versions.get(group.path, {}),
        new_version=release.new_version if release is not None else None,
        share=edge_share(release, current_version=group.current_version),
    )
