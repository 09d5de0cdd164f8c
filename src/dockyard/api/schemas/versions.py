"""Bodies of the version endpoints: a new version, a version, the difference of two."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from dockyard.api.schemas.common import SPEC_DOC, In
from dockyard.api.schemas.groups import DriftOut
from dockyard.domain.model import Version
from dockyard.domain.targets import NewSpec, parse_new_spec


class VersionIn(In):
    spec: dict[str, Any] | None = Field(default=None, description=SPEC_DOC)
    changes: dict[str, Any] | None = Field(default=None, description="changes to the latest version's spec")
    template: dict[str, Any] | None = Field(
        default=None,
        description="a component template: {name, version (default: latest), system (a system's own; default: "
        "the platform's), parameters {name: value}}",
    )
    reason: str = ""

    def new_spec(self) -> NewSpec:
        """What makes the new version: the whole spec, the changes or a template (exactly one), parsed
        once here."""
        return parse_new_spec(spec=self.spec, changes=self.changes, template=self.template)


class VersionOut(BaseModel):
    number: int
    spec: dict[str, Any] = Field(description="the version's spec; secret env values as <secret:FINGERPRINT-PREFIX>")
    created_by: str
    created_at: dt.datetime
    reason: str

    @classmethod
    def of(cls, v: Version) -> VersionOut:
        return cls(
            number=v.number, spec=v.spec.masked(), created_by=v.created_by, created_at=v.created_at, reason=v.reason
        )


class DiffOut(BaseModel):
    old: int
    new: int
    changes: list[DriftOut]
