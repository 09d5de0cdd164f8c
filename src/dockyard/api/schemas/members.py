"""Bodies of the member endpoints: who holds which role in a system or an application."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from dockyard.api.schemas.common import In
from dockyard.domain.access import Binding


class RoleIn(In):
    role: Literal["owner", "developer", "viewer"]


class MemberOut(BaseModel):
    user: str
    system: str
    app: str | None
    role: str
    granted_by: str

    @classmethod
    def of(cls, b: Binding) -> MemberOut:
        return cls(user=b.user, system=b.system, app=b.app, role=b.role, granted_by=b.granted_by)
