"""/api/v1/gc: what Dockyard made that nothing owns any more, and its cleanup (platform admins)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from dockyard.api.deps import Caller, PlatformDep
from dockyard.api.errors import ERRORS
from dockyard.api.schemas.common import In
from dockyard.services import gc
from dockyard.services.gc import ClusterGarbage

router = APIRouter(prefix="/api/v1", responses=ERRORS)


class LeftoverOut(BaseModel):
    kind: str
    namespace: str
    name: str
    reason: str


class ClusterGarbageOut(BaseModel):
    cluster: str
    reachable: bool
    error: str
    leftovers: list[LeftoverOut]

    @classmethod
    def of(cls, g: ClusterGarbage) -> ClusterGarbageOut:
        items = [LeftoverOut(kind=x.kind, namespace=x.namespace, name=x.name, reason=x.reason) for x in g.leftovers]
        return cls(cluster=g.cluster, reachable=g.reachable, error=g.error, leftovers=items)


class CollectIn(In):
    confirm: bool = False


@router.get("/gc", tags=["gc"])
async def garbage_report(platform: PlatformDep, caller: Caller) -> list[ClusterGarbageOut]:
    """Per cluster: Dockyard's workloads, Services, ConfigMaps and Secrets no group owns, namespaces of
    deleted systems, nodes with a dedication no pool explains. Nothing is changed."""
    return [ClusterGarbageOut.of(g) for g in await gc.report(platform, caller)]


@router.post("/gc", tags=["gc"])
async def collect_garbage(body: CollectIn, platform: PlatformDep, caller: Caller) -> list[ClusterGarbageOut]:
    """Delete what the report lists now (``confirm: true`` required); answers with what was removed."""
    return [ClusterGarbageOut.of(g) for g in await gc.collect(platform, caller, confirm=body.confirm)]
