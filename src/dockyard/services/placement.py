"""Where instances would land: cluster capacity and the placement preview, from the watch caches only.

- :func:`cluster_status`: nodes ready / not ready, pods, allocatable against requested CPU and memory,
  in all and per pool and CPU model.
- :func:`preview`: for a group and a version (existing, or made from a spec or changes, not saved),
  how many instances fit on each of its clusters (that cluster's share, split as the operation would:
  :func:`plan`) and why the others would not, as the scheduler would say (:mod:`dockyard.domain.fit`).
  The group's current instances count as replaced.
- :func:`check_fits`: what deploy and scale call before recording anything: :class:`DoesNotFit` (422)
  when some instances would not fit, unless forced. A cluster whose caches are not connected is not
  judged (the real scheduler will say).
Nothing here calls a cluster's API.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from dockyard.domain.access import Principal, authorize
from dockyard.domain.capacity import APP_LABEL, GROUP_LABEL, ClusterSummary, shape_of, summarize
from dockyard.domain.errors import DoesNotFit, InvalidInput, NotFound, Unavailable
from dockyard.domain.fit import Fit, place, spare_by_cpu_model
from dockyard.domain.live import Connection
from dockyard.domain.location import distribute
from dockyard.domain.model import Application, AppPath, Group, GroupPath
from dockyard.domain.placement import AUTO, dedicated_value
from dockyard.domain.render import GroupRef, deployment
from dockyard.domain.targets import Target
from dockyard.domain.versions import VersionSpec
from dockyard.services import split as splitting
from dockyard.services import targets
from dockyard.services import where as locating
from dockyard.services.applications import found_group
from dockyard.services.capacity import CachedSpareCapacity
from dockyard.services.clusters import visible_clusters
from dockyard.services.platform import Platform
from dockyard.services.ports import UnitOfWork


@dataclass(frozen=True)
class ClusterFit:
    cluster: str
    connected: bool
    fit: Fit

    def as_dict(self) -> dict[str, Any]:
        fit = self.fit
        return {
            "cluster": self.cluster,
            "connected": self.connected,
            "wanted": fit.wanted,
            "fits": fit.fits,
            "pending": fit.pending,
            "nodes": fit.nodes,
            "message": fit.message,
            "reasons": fit.reasons,
            "preempted": fit.preempted,
        }


@dataclass(frozen=True)
class Preview:
    clusters: tuple[ClusterFit, ...]

    @property
    def wanted(self) -> int:
        return sum(c.fit.wanted for c in self.clusters)

    @property
    def fits(self) -> int:
        return sum(c.fit.fits for c in self.clusters)

    def as_dict(self) -> dict[str, Any]:
        return {
            "wanted": self.wanted,
            "fits": self.fits,
            "pending": self.wanted - self.fits,
            "clusters": [c.as_dict() for c in self.clusters],
        }


async def cluster_status(platform: Platform, by: Principal, name: str) -> tuple[Connection, ClusterSummary]:
    """The cluster's capacity as the caches have it; :class:`NotFound` for an unregistered cluster."""
    if name not in {c.name for c in await visible_clusters(platform, by)}:
        raise NotFound(f"cluster {name!r} is not registered")
    capacity = platform.live.capacity(name)
    usage = capacity.usage
    summary = summarize(capacity.nodes, usage.used, pods=len(usage), pending=usage.pending())
    return platform.live.connection(name), summary


async def preview(
    platform: Platform,
    by: Principal,
    *,
    group: GroupPath,
    target: Target,
) -> Preview:
    """Where ``target`` (an existing version, or one made from a spec or changes; nothing is saved,
    not even the CPU model ``auto`` would choose) would land: on each cluster of the group, that
    cluster's share."""
    authorize(by, "read", group.system, group.app)
    async with platform.db.unit_of_work() as uow:
        found = await found_group(uow, group)
        resolved = await targets.resolve(uow, found, target, seal=platform.seal_value)
        planned = await plan(platform, uow, found, resolved.number, resolved.spec, pin=False)
    return preview_split(platform, planned, resolved.number, resolved.spec)


@dataclass(frozen=True)
class Planned:
    """A deploy's clusters as the operation would split it: each with its rendering and its count."""

    refs: dict[str, GroupRef]
    counts: dict[str, int]


async def plan(
    platform: Platform, uow: UnitOfWork, found: Group, number: int, spec: VersionSpec, *, pin: bool
) -> Planned:
    """The group's clusters for ``spec`` (:mod:`dockyard.services.where`: database only), its CPU model
    chosen over them (``cpu_model: auto``; recorded when ``pin``), and the split the operation would
    make from the watch caches (clusters whose caches are disconnected count as away)."""
    application = await uow.applications.get(AppPath(found.system, found.app))
    if application is None:
        raise NotFound(f"application {found.app!r} does not exist in {found.system!r}")
    where = await locating.clusters_of(uow, found, application, spec)
    refs = {c: await group_ref(uow, found.path, c, application=application) for c in where.clusters}
    chosen = pick_cpu_model(platform, refs, spec)
    if pin and chosen != next(iter(refs.values())).cpu_model:
        await uow.placements.pin_cpu_model(found.system, found.app, chosen)
    refs = {c: replace(r, cpu_model=chosen) for c, r in refs.items()}
    up = [c for c in where.clusters if _judged(platform, c)]
    away = {c: "not connected" for c in where.clusters if c not in up}
    if not up:
        up, away = list(where.clusters), {}  # as an operation does when none answers
    capacity = CachedSpareCapacity(platform, refs, number)
    try:
        counts = await splitting.split(
            where=where, spec=spec, up=up, away=away, parts=found.clusters, capacity=capacity
        )
    except Unavailable:
        counts = distribute(spec.instances, dict.fromkeys(where.clusters, 1))  # nothing to judge by: shown only
    return Planned(refs, counts)


def _judged(platform: Platform, cluster: str) -> bool:
    return platform.live.capacity(cluster).synced and platform.live.connection(cluster).connected


async def group_ref(
    uow: UnitOfWork, group: GroupPath, cluster: str, *, application: Application | None = None
) -> GroupRef:
    """The group as rendering sees it on ``cluster``: with its application's business id, the
    dedicated pool's label value if one of that cluster's pools is dedicated to it, and the CPU model
    chosen for it (``cpu_model: auto``). Deploys, drift and the preview all render from this.
    ``application``: the group's, when the caller has already read it."""
    system, app = group.system, group.app
    if application is None:
        application = await uow.applications.get(group.app_path)
    dedicated = any(d.system == system and d.app == app for d in await uow.placements.dedications(cluster))
    return GroupRef(
        system=system,
        app=app,
        group=group.group,
        business_id=application.business_id if application else "",
        dedicated=dedicated_value(system, app) if dedicated else "",
        cpu_model=await uow.placements.cpu_model(system, app) or "",
    )


def pick_cpu_model(platform: Platform, refs: Mapping[str, GroupRef], spec: VersionSpec) -> str:
    """For ``cpu_model: auto`` on an application without a model yet: the model with the most spare
    capacity for the version's instances over the group's clusters ``refs`` whose caches are
    connected (:func:`~dockyard.domain.fit.spare_by_cpu_model`; ties by name); else the application's
    model as it is. :class:`Unavailable` while no cluster's caches can tell; :class:`InvalidInput` when
    no node could take an instance."""
    current = next(iter(refs.values())).cpu_model
    if spec.placement is None or spec.placement.cpu_model != AUTO or current:
        return current
    judged = [c for c in refs if _judged(platform, c)]
    if not judged:
        names = ", ".join(repr(c) for c in refs)
        raise Unavailable(f"cannot choose a CPU model now: Dockyard's view of cluster {names} is not synced")
    spare: dict[str, int] = {}
    for cluster in judged:
        ref = refs[cluster]
        capacity = platform.live.capacity(cluster)
        shape = shape_of(ref.namespace, deployment(ref, 1, spec)["spec"]["template"])
        for model, room in spare_by_cpu_model(capacity.nodes, capacity.usage.used, shape).items():
            spare[model] = spare.get(model, 0) + room
    if not spare or max(spare.values()) == 0:
        where = "cluster " + ", ".join(judged)
        raise InvalidInput("placement.cpu_model", f"no CPU model of {where} has room for one instance")
    return min(spare, key=lambda m: (-spare[m], m))


def preview_split(platform: Platform, planned: Planned, number: int, spec: VersionSpec) -> Preview:
    """The preview of ``spec`` as version ``number``: on each planned cluster, its share."""
    fits: list[ClusterFit] = []
    for cluster, count in planned.counts.items():
        share = spec if count == spec.instances else spec.with_changes(instances=count)
        fits += preview_spec(platform, cluster, planned.refs[cluster], number, share).clusters
    return Preview(tuple(fits))


def preview_spec(platform: Platform, cluster: str, ref: GroupRef, number: int, spec: VersionSpec) -> Preview:
    """The preview of ``spec`` as version ``number`` of the group ``ref`` on ``cluster``."""
    shape = shape_of(ref.namespace, deployment(ref, number, spec)["spec"]["template"])
    capacity = platform.live.capacity(cluster)
    connected = capacity.synced and platform.live.connection(cluster).connected

    replacing = ((APP_LABEL, ref.app), (GROUP_LABEL, ref.group))  # in the shape's namespace
    fit = place(capacity.nodes, capacity.usage, shape, spec.instances, replacing=replacing)
    return Preview((ClusterFit(cluster, connected, fit),))


def check_fits(platform: Platform, planned: Planned, number: int, spec: VersionSpec) -> None:
    """:class:`DoesNotFit` when some of the version's instances would find no node on their cluster
    (see the module)."""
    found = preview_split(platform, planned, number, spec)
    judged = [c for c in found.clusters if c.connected and c.fit.pending]
    if not judged:
        return
    first = judged[0].fit
    missing = sum(c.fit.pending for c in judged)
    raise DoesNotFit(
        f"{missing} of {found.wanted} instances would not fit on cluster {', '.join(c.cluster for c in judged)}: "
        f"{first.message} Give force: true to deploy anyway",
        {"preview": found.as_dict()},
    )
