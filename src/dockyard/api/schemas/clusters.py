"""Bodies of the cluster endpoints: registration, capacity and status, dedicated pools."""

from __future__ import annotations

from pydantic import BaseModel, Field

from dockyard.api.schemas.common import In
from dockyard.domain.capacity import Amount, ClusterSummary
from dockyard.domain.model import Dedication
from dockyard.domain.placement import DEDICATED_LABEL, dedicated_value


class ClusterIn(In):
    name: str
    kubeconfig: str = Field(
        description="a kubeconfig's content (YAML) with its credentials embedded (no file references, no exec "
        "plugin), or `in-cluster`; stored sealed, reduced to its current context, and never returned"
    )
    labels: dict[str, str] = Field(default_factory=dict)


class ClusterOut(BaseModel):
    name: str
    labels: dict[str, str]
    connected: bool = Field(description="its watch caches are connected")
    detail: str = ""


class AmountOut(BaseModel):
    cpu_millis: int
    memory_mib: int

    @classmethod
    def of(cls, a: Amount) -> AmountOut:
        return cls(cpu_millis=a.cpu_millis, memory_mib=a.memory_mib)


class NodeCountsOut(BaseModel):
    ready: int
    not_ready: int


class PoolStatusOut(BaseModel):
    pool: str
    cpu_model: str
    nodes: int
    ready: int
    allocatable: AmountOut
    requested: AmountOut


class ClusterStatusOut(BaseModel):
    """A cluster's capacity from Dockyard's watch caches: nodes, pods (``pending``: not yet on a node),
    allocatable against requested CPU and memory, in all and per pool and CPU model."""

    cluster: str
    connected: bool
    nodes: NodeCountsOut
    pods: int
    pending: int
    allocatable: AmountOut
    requested: AmountOut
    pools: list[PoolStatusOut]

    @classmethod
    def of(cls, name: str, connected: bool, s: ClusterSummary) -> ClusterStatusOut:
        pools = [
            PoolStatusOut(
                pool=p.pool,
                cpu_model=p.cpu_model,
                nodes=p.nodes,
                ready=p.ready,
                allocatable=AmountOut.of(p.allocatable),
                requested=AmountOut.of(p.requested),
            )
            for p in s.pools
        ]
        return cls(
            cluster=name,
            connected=connected,
            nodes=NodeCountsOut(ready=s.ready, not_ready=s.not_ready),
            pods=s.pods,
            pending=s.pending,
            allocatable=AmountOut.of(s.allocatable),
            requested=AmountOut.of(s.requested),
            pools=pools,
        )


class DedicationIn(In):
    system: str
    app: str


class DedicationOut(BaseModel):
    cluster: str
    pool: str
    system: str
    app: str
    by: str
    taint: str = Field(
        description="the taint (and label) on the pool's nodes: dockyard.io/dedicated=<value>:NoSchedule"
    )

    @classmethod
    def of(cls, d: Dedication) -> DedicationOut:
        taint = f"{DEDICATED_LABEL}={dedicated_value(d.system, d.app)}:NoSchedule"
        return cls(cluster=d.cluster, pool=d.pool, system=d.system, app=d.app, by=d.by, taint=taint)
