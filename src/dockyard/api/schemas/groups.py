"""Bodies of the group endpoints: a group with its live status, its instances."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from dockyard.api.schemas.common import In
from dockyard.domain.live import PodRecord
from dockyard.domain.model import Group


class GroupIn(In):
    name: str
    environment: str
    cluster: str


class DriftOut(BaseModel):
    field: str
    expected: Any
    live: Any


class GroupStatusOut(BaseModel):
    state: str = Field(description="not-deployed | progressing | healthy | degraded | drifted | unknown")
    ready: int
    instances: int
    wanted: int
    stale: bool = Field(description="the cluster's watch is disconnected: the last known state is shown")
    drift: list[DriftOut] = Field(default_factory=list)
    operation: str | None = Field(default=None, description="id of the unfinished operation, if any")
    clusters: list[ClusterStateOut] = Field(default_factory=list, description="the group on each of its clusters")


class ClusterStateOut(BaseModel):
    cluster: str
    state: str = Field(description="as the group's state, or unreachable while the cluster is away")
    version: int | None = Field(description="the version the group runs there")
    wanted: int
    ready: int
    instances: int
    connected: bool


class GroupClusterOut(BaseModel):
    cluster: str
    instances: int
    version: int | None


class GroupOut(BaseModel):
    system: str
    app: str
    name: str
    environment: str
    cluster: str
    current_version: int | None
    latest_version: int
    clusters: list[GroupClusterOut] = Field(
        default_factory=list, description="where it runs: instances and version per cluster (empty before a deploy)"
    )
    status: GroupStatusOut | None = None

    @classmethod
    def of(cls, g: Group, status: GroupStatusOut | None = None) -> GroupOut:
        return cls(
            system=g.system,
            app=g.app,
            name=g.name,
            environment=g.environment,
            cluster=g.cluster,
            current_version=g.current_version,
            latest_version=g.latest_version,
            clusters=[GroupClusterOut(cluster=c.cluster, instances=c.instances, version=c.version) for c in g.clusters],
            status=status,
        )


class InstanceOut(BaseModel):
    name: str
    phase: str
    ready: bool
    restarts: int
    pod_ip: str
    host_ip: str
    node: str
    version: str
    created_at: dt.datetime | None
    age_seconds: int
    reason: str
    deleting: bool
    cluster: str = ""
    container_id: str = ""

    @classmethod
    def of(cls, p: PodRecord, now: float, *, cluster: str = "") -> InstanceOut:
        return cls(
            cluster=cluster,
            name=p.name,
            phase=p.phase,
            ready=p.ready,
            restarts=p.restarts,
            pod_ip=p.pod_ip,
            host_ip=p.host_ip,
            node=p.node,
            version=p.version,
            created_at=dt.datetime.fromtimestamp(p.created, dt.UTC) if p.created else None,
            age_seconds=max(0, int(now - p.created)) if p.created else 0,
            reason=p.reason,
            deleting=p.deleting,
            container_id=p.container_id,
        )


class InstancesOut(BaseModel):
    stale: bool
    items: list[InstanceOut]
