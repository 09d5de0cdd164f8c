"""Bodies of the flavor catalog's endpoints."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from dockyard.api.schemas.common import In
from dockyard.domain.flavors import Flavor


class FlavorIn(In):
    name: str = Field(default="", description="a DNS label; on an update, the path's name (or left out)")
    cpu_millis: int = Field(description="CPU per instance, in millicores (requests equal limits)")
    memory_mib: int = Field(description="memory per instance, in MiB")
    extended: dict[str, int] = Field(default_factory=dict, description="extended resources: {nvidia.com/gpu: 1}")
    clusters: list[str] = Field(default_factory=list, description="clusters that offer it; empty: every cluster")
    pools: list[str] = Field(default_factory=list, description="node pools that offer it; empty: every pool")
    description: str = ""

    def raw(self) -> dict[str, Any]:
        return self.model_dump()


class FlavorOut(BaseModel):
    name: str
    label: str = Field(description="as the console shows it, e.g. small/1C1024M")
    cpu_millis: int
    memory_mib: int
    extended: dict[str, int]
    clusters: list[str]
    pools: list[str]
    description: str

    @classmethod
    def of(cls, f: Flavor) -> FlavorOut:
        return cls(label=f.label, **f.to_data())
