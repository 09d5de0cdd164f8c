"""Global names: keep the DNS server's records up to date with every cluster's ready instances, and
tell a group's global name and current answers.

:func:`follow` runs in each server whose settings name a records directory (bootstrap starts it). It
reads the registered clusters (again every :data:`CLUSTERS_EVERY` seconds) and, every
:data:`FOLLOW_EVERY` seconds, looks at the watch caches' revisions: only when one changed (or the
clusters did) does it compute the records (:mod:`dockyard.domain.discovery`) from the caches — never
from the apiserver — and hand them to the :class:`~dockyard.services.ports.DnsRecords` port, which
writes only the files whose content changed. A cluster whose watch is disconnected keeps its last
known instances. A starting follower writes nothing until every cluster's instances have been listed
once (or :data:`SYNC_GRACE` has passed, for a cluster that stays away), so a server restart never
empties the names it finds published. Several servers write the same content; a failed write is logged and tried again
at the next look.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from dockyard.domain import discovery
from dockyard.domain.access import Principal, authorize
from dockyard.domain.clusters import Cluster
from dockyard.domain.errors import NotFound
from dockyard.domain.failures import DatabaseFailure, DnsFailure
from dockyard.domain.model import GroupPath
from dockyard.services import ports
from dockyard.services.platform import Platform

log = logging.getLogger(__name__)
FOLLOW_EVERY = 0.2  # seconds between looks at the caches' revisions (in memory: cheap)
CLUSTERS_EVERY = 5.0  # seconds between reads of the registered clusters
SYNC_GRACE = 30.0  # seconds a starting follower waits for every cluster's first list before writing


def idc_of(cluster: Cluster) -> str:
    return cluster.labels.get("idc", "")


def record_files(live: ports.LiveView, clusters: Sequence[Cluster]) -> dict[str, str]:
    """Every records file, from the watch caches of ``clusters`` (no I/O)."""
    found = discovery.merge(discovery.endpoints(c.name, idc_of(c), live.instances(c.name)) for c in clusters)
    return discovery.record_files(found, idcs=[idc_of(c) for c in clusters])


async def follow(
    platform: Platform,
    records: ports.DnsRecords,
    *,
    every: float = FOLLOW_EVERY,
    clusters_every: float = CLUSTERS_EVERY,
    sync_grace: float = SYNC_GRACE,
) -> None:
    """Keep ``records`` up to date until cancelled (see the module's docstring); never raises else."""
    started = time.monotonic()
    clusters: list[Cluster] = []
    read_at = float("-inf")
    last: object = None
    while True:
        if time.monotonic() - read_at >= clusters_every:
            try:
                async with platform.db.unit_of_work() as uow:
                    clusters = await uow.clusters.all()
                read_at = time.monotonic()
            except DatabaseFailure as e:
                log.warning("global names: cannot read the clusters: %s", e)
        seen = tuple((c.name, idc_of(c), platform.live.revision(c.name)) for c in clusters)
        unlisted = any(revision == 0 for _, _, revision in seen)
        if unlisted and time.monotonic() - started < sync_grace:
            pass  # a just-started server knows no instance yet: writing now would empty the names
        elif seen != last:
            files = record_files(platform.live, clusters)
            try:
                written = await asyncio.to_thread(records.write, files)
            except DnsFailure as e:
                log.warning("global names: %s", e)
            else:
                last = seen
                if written:
                    log.debug("global names: wrote %s", ", ".join(written))
        await asyncio.sleep(every)


@dataclass(frozen=True)
class Answer:
    cluster: str
    idc: str
    ip: str


@dataclass(frozen=True)
class GroupName:
    """A group's global name and what it answers now (from the watch caches), IDCs by name: the order
    a DNS server outside every IDC gives; one in an IDC puts that IDC's first."""

    name: str
    answers: list[Answer]


async def group_name(platform: Platform, by: Principal, group: GroupPath) -> GroupName:
    """The group's global name and current answers; :class:`NotFound` for a group that does not exist
    (or that ``by`` may not read, which is checked first)."""
    authorize(by, "read", group.system, group.app)
    async with platform.db.unit_of_work() as uow:
        found = await uow.groups.get(group)
        if found is None:
            raise NotFound(f"group {group.group!r} does not exist in {group.app_path}")
        clusters = {c.name: c for c in await uow.clusters.all()}
    endpoints = []
    for name in sorted({c.cluster for c in found.clusters} | {found.cluster}):
        cluster = clusters.get(name)
        idc = idc_of(cluster) if cluster else ""
        endpoints += discovery.endpoints(name, idc, platform.live.pods(name, group)).get(group, [])
    ordered = discovery.ordered(endpoints, caller_idc="")
    return GroupName(discovery.global_name(group), [Answer(e.cluster, e.idc, e.ip) for e in ordered])
