"""Bodies of the application endpoints."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from dockyard.api.schemas.common import In
from dockyard.domain.model import Application


class ApplicationIn(In):
    name: str
    repository: str
    business_id: str = ""
    owners: list[str] = Field(default_factory=list)
    location: dict[str, Any] | None = Field(
        default=None, description="default location of its groups: {idc, provider, region, clusters}"
    )


class ApplicationOut(BaseModel):
    system: str
    name: str
    repository: str
    business_id: str
    owners: list[str]
    location: dict[str, Any] | None = None

    @classmethod
    def of(cls, a: Application) -> ApplicationOut:
        return cls(
            system=a.system,
            name=a.name,
            repository=a.repository,
            business_id=a.business_id,
            owners=list(a.owners),
            location=a.location.to_data() if a.location else None,
        )
