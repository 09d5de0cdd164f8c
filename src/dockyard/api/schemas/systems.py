"""Bodies of the system endpoints."""

from __future__ import annotations

from pydantic import BaseModel, Field, StrictInt

from dockyard.api.schemas.common import In
from dockyard.domain.model import System


class QuotaIn(In):
    cpu_millis: StrictInt = Field(default=0, ge=0, le=10**9)
    memory_mib: StrictInt = Field(default=0, ge=0, le=10**9)


class SystemIn(In):
    name: str
    description: str = ""
    quota: QuotaIn = Field(default_factory=QuotaIn)


class QuotaOut(BaseModel):
    cpu_millis: int
    memory_mib: int


class SystemOut(BaseModel):
    name: str
    description: str
    quota: QuotaOut

    @classmethod
    def of(cls, s: System) -> SystemOut:
        return cls(name=s.name, description=s.description, quota=QuotaOut(**vars(s.quota)))
