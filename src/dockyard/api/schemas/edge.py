"""A group's edge load balancer entry: the body that sets it and what is shown of it."""

from __future__ import annotations

from pydantic import BaseModel, Field

from dockyard.api.schemas.common import In
from dockyard.services.edge import EdgeView


class EdgeIn(In):
    port: str = Field(
        default="",
        max_length=15,
        description="the version's port the edge serves ('': its port named http, else its first TCP port)",
    )


class UpstreamOut(BaseModel):
    address: str = Field(description="the instance's pod IP:port")
    version: int
    weight: int = Field(description="its weight in the weighted round robin")


class EdgeOut(BaseModel):
    system: str
    app: str
    group: str
    host: str = Field(description="the group's global name: the Host its route matches")
    enabled: bool = Field(description="whether the group has an edge entry")
    port: str | None = Field(description="the port name the entry serves ('': the default); null without an entry")
    balancer: bool = Field(description="whether this server has an edge load balancer configured")
    upstreams: list[UpstreamOut] = Field(description="the instances requests go to now (empty: the edge answers 503)")
    health_path: str | None = Field(description="the readiness path the edge checks each instance on, if any")

    @classmethod
    def of(cls, view: EdgeView) -> EdgeOut:
        route = view.route
        return cls(
            system=view.group.system,
            app=view.group.app,
            group=view.group.group,
            host=view.host,
            enabled=view.entry is not None,
            port=view.entry.port if view.entry is not None else None,
            balancer=view.balancer,
            upstreams=[UpstreamOut(address=u.address, version=u.version, weight=u.weight) for u in route.upstreams]
            if route
            else [],
            health_path=route.health.path if route and route.health else None,
        )
