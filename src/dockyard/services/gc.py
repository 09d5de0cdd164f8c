"""The resource pool's garbage collection: a report of what Dockyard made that nothing owns, and its cleanup.

:func:`report` (platform admins) looks at every registered cluster: Dockyard's Deployments, Services,
ConfigMaps and Secrets whose group is gone, namespaces of deleted systems, nodes whose dedication no
pool explains (:mod:`dockyard.domain.gc`). Unlike request paths, it lists those kinds through the
apiserver (by the label ``app.kubernetes.io/managed-by=dockyard``): only Deployments and nodes have
watch caches, and a rare admin report does not justify caching every ConfigMap and Secret.
:func:`collect` deletes what the report lists at that moment (taints and labels are removed from
nodes); a cluster that cannot be reached is reported as such and skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dockyard.domain.access import Principal, require_admin
from dockyard.domain.errors import InvalidInput
from dockyard.domain.failures import ClusterFailure
from dockyard.domain.gc import Leftover, leftovers, stale_dedications
from dockyard.domain.placement import DEDICATED_LABEL, dedicated_value
from dockyard.services import nodes as node_marks
from dockyard.services.platform import Platform
from dockyard.services.ports import ClusterClient

MANAGED = {"app.kubernetes.io/managed-by": "dockyard"}
KINDS = (
    ("apps/v1", "Deployment"),
    ("v1", "Service"),
    ("v1", "ConfigMap"),
    ("v1", "Secret"),
    ("policy/v1", "PodDisruptionBudget"),
)
API_VERSIONS = {kind: version for version, kind in KINDS}


@dataclass
class ClusterGarbage:
    cluster: str
    reachable: bool = True
    error: str = ""
    leftovers: list[Leftover] = field(default_factory=list)


async def report(platform: Platform, by: Principal) -> list[ClusterGarbage]:
    """What no system, group or dedication owns, per cluster (see the module)."""
    require_admin(by, "the garbage report")
    async with platform.db.unit_of_work() as uow:
        clusters = await uow.clusters.all()
        systems = {s.name for s in await uow.systems.all()}
        groups: dict[str, set[tuple[str, str, str]]] = {}
        for system in systems:
            for app in await uow.applications.of_system(system):
                for g in await uow.groups.of_app(app.path):
                    groups.setdefault(g.cluster, set()).add((system, app.name, g.name))
        dedications = await uow.placements.dedications()
    out = []
    for cluster in clusters:
        found = ClusterGarbage(cluster.name)
        wanted = {d.pool: dedicated_value(d.system, d.app) for d in dedications if d.cluster == cluster.name}
        found.leftovers += stale_dedications(platform.live.capacity(cluster.name).nodes, wanted)
        try:
            kube = await platform.clusters.client(cluster)
            objects = [{**o, "kind": "Namespace"} for o in await kube.list("v1", "Namespace", labels=MANAGED)]
            for version, kind in KINDS:
                objects += [{**o, "kind": kind} for o in await kube.list(version, kind, labels=MANAGED)]
        except ClusterFailure as e:
            found.reachable, found.error = False, str(e)
        else:
            found.leftovers += leftovers(objects, systems=systems, groups=groups.get(cluster.name, set()))
        out.append(found)
    return out


async def collect(platform: Platform, by: Principal, *, confirm: bool) -> list[ClusterGarbage]:
    """Delete what :func:`report` finds now (platform admins, ``confirm`` required: else
    :class:`InvalidInput`); returns that report (``error`` names what failed)."""
    require_admin(by, "collecting garbage")
    if not confirm:
        raise InvalidInput("confirm", "give confirm: true to delete what GET /api/v1/gc lists")
    found = await report(platform, by)
    async with platform.db.unit_of_work() as uow:
        clusters = {c.name: c for c in await uow.clusters.all()}
    for garbage in found:
        if not garbage.reachable or not garbage.leftovers:
            continue
        try:
            kube = await platform.clusters.client(clusters[garbage.cluster])
            for item in garbage.leftovers:
                await _remove(kube, item)
        except ClusterFailure as e:
            garbage.error = f"cleanup stopped: {e}"
    return found


async def _remove(kube: ClusterClient, item: Leftover) -> None:
    if item.kind == "Node":
        await node_marks.mark(kube, item.name, DEDICATED_LABEL, None)
        return
    await kube.delete(API_VERSIONS.get(item.kind, "v1"), item.kind, item.name, namespace=item.namespace or None)
