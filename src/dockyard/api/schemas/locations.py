"""Bodies of the location endpoints: an application's default location and a system's grants."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from dockyard.api.schemas.common import In
from dockyard.domain.location import Grant


class LocationIn(In):
    location: dict[str, Any] | None = Field(description="{idc, provider, region, clusters}; null: none")


class GrantIn(In):
    location: dict[str, Any] = Field(description="the location asked for: {idc, provider, region, clusters}")
    reason: str = ""


class GrantOut(BaseModel):
    id: int
    system: str
    location: dict[str, Any]
    status: str = Field(description="requested | approved | revoked")
    reason: str
    requested_by: str
    decided_by: str

    @classmethod
    def of(cls, g: Grant) -> GrantOut:
        return cls(
            id=g.id,
            system=g.system,
            location=g.location.to_data(),
            status=g.status,
            reason=g.reason,
            requested_by=g.requested_by,
            decided_by=g.decided_by,
        )
