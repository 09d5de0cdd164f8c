"""Exclusive pools: a platform admin dedicates a node pool of a cluster to one application.

:func:`dedicate` records the dedication, then labels and taints every node of the pool (as the
cluster's node cache knows them) with ``dockyard.io/dedicated=<system>.<app>`` (``NoSchedule``): the
application's pods, rendered from then on with the matching toleration and nodeSelector
(:func:`~dockyard.services.placement.group_ref`), run there only, and nobody else's pods land there.
Its running groups take it on their next deploy or reconcile (until then they read as drifted).
:func:`undedicate` removes the taints and labels, then the record. Both are idempotent: called again
after a cluster error they finish the job. Mutations are audited by the API's middleware.
"""

from __future__ import annotations

from dockyard.domain.access import Principal, require_admin
from dockyard.domain.errors import Conflict, InvalidInput, NotFound, Unavailable
from dockyard.domain.failures import ClusterFailure
from dockyard.domain.model import AppPath, Dedication
from dockyard.domain.names import dns_label
from dockyard.domain.placement import DEDICATED_LABEL, POOL_LABEL, dedicated_value
from dockyard.services import nodes as node_marks
from dockyard.services.platform import Platform


async def dedications(platform: Platform, by: Principal, cluster: str) -> list[Dedication]:
    """The cluster's dedicated pools; any signed-in user may see them (as the clusters themselves)."""
    async with platform.db.unit_of_work() as uow:
        if cluster not in {c.name for c in await uow.clusters.all()}:
            raise NotFound(f"cluster {cluster!r} is not registered")
        return await uow.placements.dedications(cluster)


async def dedicate(platform: Platform, by: Principal, *, cluster: str, pool: str, system: str, app: str) -> Dedication:
    """Dedicate ``pool`` of ``cluster`` to ``system/app`` (platform admins). :class:`Conflict` if it
    is dedicated to another application; :class:`InvalidInput` if no node of the cluster is in it."""
    require_admin(by, "dedicating a pool")
    dns_label("pool", pool)
    async with platform.db.unit_of_work() as uow:
        if cluster not in {c.name for c in await uow.clusters.all()}:
            raise NotFound(f"cluster {cluster!r} is not registered")
        if await uow.applications.get(AppPath(system, app)) is None:
            raise NotFound(f"application {system}/{app} does not exist")
        names = _pool_nodes(platform, cluster, pool)
        current = await uow.placements.dedication(cluster, pool)
        if current is not None and (current.system, current.app) != (system, app):
            raise Conflict(f"pool {pool!r} is dedicated to {current.system}/{current.app}: undedicate it first")
        dedication = Dedication(cluster=cluster, pool=pool, system=system, app=app, by=by.name)
        await uow.placements.dedicate(dedication)
    await _mark(platform, cluster, names, dedicated_value(system, app))
    return dedication


async def undedicate(platform: Platform, by: Principal, *, cluster: str, pool: str) -> None:
    """Give ``pool`` back to everyone: its nodes lose the taint and the label, then the record goes."""
    require_admin(by, "undedicating a pool")
    async with platform.db.unit_of_work() as uow:
        if await uow.placements.dedication(cluster, pool) is None:
            raise NotFound(f"pool {pool!r} of cluster {cluster!r} is not dedicated")
    await _mark(platform, cluster, _pool_nodes(platform, cluster, pool, empty_ok=True), None)
    async with platform.db.unit_of_work() as uow:
        await uow.placements.undedicate(cluster, pool)


def _pool_nodes(platform: Platform, cluster: str, pool: str, *, empty_ok: bool = False) -> list[str]:
    capacity = platform.live.capacity(cluster)
    if not capacity.synced:
        raise Unavailable(f"Dockyard's view of cluster {cluster!r} is not synced yet; try again")
    names = sorted(n.name for n in capacity.nodes if n.label(POOL_LABEL) == pool)
    if not names and not empty_ok:
        raise InvalidInput("pool", f"no node of cluster {cluster!r} is in pool {pool!r}")
    return names


async def _mark(platform: Platform, cluster: str, names: list[str], value: str | None) -> None:
    async with platform.db.unit_of_work() as uow:
        found = {c.name: c for c in await uow.clusters.all()}
    try:
        kube = await platform.clusters.client(found[cluster])
        for name in names:
            await node_marks.mark(kube, name, DEDICATED_LABEL, value)
    except ClusterFailure as e:
        raise Unavailable(f"cluster {cluster!r} did not take the nodes' taints: {e}; try again") from e
