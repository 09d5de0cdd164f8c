"""Bodies of the component template endpoints."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from dockyard.api.schemas.common import SPEC_DOC, In
from dockyard.api.schemas.groups import DriftOut
from dockyard.domain.templates import Template
from dockyard.services.templates import GroupAdoption


class TemplateIn(In):
    description: str = ""
    parameters: list[dict[str, Any]] = Field(
        default_factory=list,
        description="[{name, type: string|int|enum|flavor|image|bool, description, default, minimum, maximum, "
        "choices}]; no default: required",
    )
    body: dict[str, Any] = Field(description=SPEC_DOC + " Strings may hold ${parameter} placeholders.")

    def raw(self) -> dict[str, Any]:
        return self.model_dump()


class RenderIn(In):
    version: int | None = Field(default=None, ge=1, description="a version of the template; default: its latest")
    parameters: dict[str, Any] = Field(default_factory=dict)


class TemplateOut(BaseModel):
    name: str
    version: int
    system: str = Field(description="the system that owns it; empty: the platform's")
    builtin: bool
    description: str
    parameters: list[dict[str, Any]]
    body: dict[str, Any]
    created_by: str
    created_at: dt.datetime | None
    versions: list[int] = Field(default_factory=list, description="every version of the template (on a lookup)")

    @classmethod
    def of(cls, t: Template, versions: list[int] | None = None) -> TemplateOut:
        return cls(
            name=t.name,
            version=t.version,
            system=t.owner,
            builtin=t.builtin,
            description=t.description,
            parameters=[p.to_data() for p in t.parameters],
            body=dict(t.body),
            created_by=t.created_by,
            created_at=t.created_at,
            versions=versions or [],
        )


class RenderOut(BaseModel):
    template: str = Field(description="name@version (system:name@version for a system's)")
    spec: dict[str, Any]


class FieldError(BaseModel):
    field: str
    message: str


class GroupAdoptionOut(BaseModel):
    group: str = Field(description="system/app/group")
    current_version: int
    from_version: int = Field(description="the template version the group's current version was made from")
    changes: list[DriftOut] = Field(description="what a deploy of the template version would change (old, new)")
    error: FieldError | None = Field(description="why a deploy with the group's parameters would be refused")

    @classmethod
    def of(cls, a: GroupAdoption) -> GroupAdoptionOut:
        return cls(
            group=str(a.group),
            current_version=a.current_version,
            from_version=a.from_version,
            changes=[DriftOut(field=k, expected=old, live=new) for k, (old, new) in a.adoption.changes.items()],
            error=FieldError(field=a.adoption.error[0], message=a.adoption.error[1]) if a.adoption.error else None,
        )


class AdoptionOut(BaseModel):
    template: str
    groups: list[GroupAdoptionOut]
