"""/api/v1/clusters: the Kubernetes clusters groups run on."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from dockyard.api.deps import Caller, PlatformDep
from dockyard.api.errors import ERRORS
from dockyard.api.schemas.clusters import ClusterIn, ClusterOut, ClusterStatusOut, DedicationIn, DedicationOut
from dockyard.domain.clusters import Cluster
from dockyard.domain.errors import InvalidInput, NotFound
from dockyard.services import clusters as svc
from dockyard.services import placement, pools
from dockyard.services.platform import Platform

router = APIRouter(prefix="/api/v1", responses=ERRORS)


def _cluster(platform: Platform, c: Cluster) -> ClusterOut:
    connection = platform.live.connection(c.name)
    return ClusterOut(name=c.name, labels=c.labels, connected=connection.connected, detail=connection.detail)


@router.get("/clusters", tags=["clusters"])
async def list_clusters(platform: PlatformDep, caller: Caller) -> list[ClusterOut]:
    """Registered clusters and whether Dockyard's watches on them are connected (never credentials)."""
    return [_cluster(platform, c) for c in await svc.visible_clusters(platform, caller)]


@router.get("/clusters/{name}", tags=["clusters"])
async def get_cluster(name: str, platform: PlatformDep, caller: Caller) -> ClusterOut:
    for c in await svc.visible_clusters(platform, caller):
        if c.name == name:
            return _cluster(platform, c)
    raise NotFound(f"cluster {name!r} is not registered")


@router.put("/clusters/{name}", tags=["clusters"], status_code=status.HTTP_200_OK)
async def register_cluster(
    name: str, body: ClusterIn, platform: PlatformDep, caller: Caller, response: Response
) -> ClusterOut:
    """Register or update a cluster (platform admins); 201 when new."""
    if body.name != name:
        raise InvalidInput("name", f"the body's name {body.name!r} differs from the path's {name!r}")
    if await svc.register(platform, caller, name=name, kubeconfig=body.kubeconfig, labels=body.labels):
        response.status_code = status.HTTP_201_CREATED
    return await get_cluster(name, platform, caller)


@router.get("/clusters/{name}/status", tags=["clusters"])
async def cluster_status(name: str, platform: PlatformDep, caller: Caller) -> ClusterStatusOut:
    """Nodes ready / not ready, pods, allocatable against requested CPU and memory per pool and CPU
    model, from the watch caches (never the apiserver)."""
    connection, summary = await placement.cluster_status(platform, caller, name)
    return ClusterStatusOut.of(name, connection.connected, summary)


@router.get("/clusters/{name}/dedicated-pools", tags=["clusters"])
async def list_dedicated_pools(name: str, platform: PlatformDep, caller: Caller) -> list[DedicationOut]:
    """The cluster's pools dedicated to one application each."""
    return [DedicationOut.of(d) for d in await pools.dedications(platform, caller, name)]


@router.put("/clusters/{name}/dedicated-pools/{pool}", tags=["clusters"])
async def dedicate_pool(
    name: str, pool: str, body: DedicationIn, platform: PlatformDep, caller: Caller
) -> DedicationOut:
    """Dedicate a pool to one application (platform admins): its nodes are labelled and tainted
    ``dockyard.io/dedicated=<system>.<app>:NoSchedule``; only that application's pods go there."""
    made = await pools.dedicate(platform, caller, cluster=name, pool=pool, system=body.system, app=body.app)
    return DedicationOut.of(made)


@router.delete("/clusters/{name}/dedicated-pools/{pool}", tags=["clusters"], status_code=status.HTTP_204_NO_CONTENT)
async def undedicate_pool(name: str, pool: str, platform: PlatformDep, caller: Caller) -> None:
    """Give a dedicated pool back to every application (platform admins): taints and labels removed."""
    await pools.undedicate(platform, caller, cluster=name, pool=pool)
