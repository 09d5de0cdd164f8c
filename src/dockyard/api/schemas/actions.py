"""Bodies of a group's actions: preview, deploy, scale, rollback, reconcile."""

from __future__ import annotations

from pydantic import Field

from dockyard.api.schemas.common import In
from dockyard.api.schemas.versions import VersionIn
from dockyard.domain.targets import Target, parse_target


class PreviewIn(VersionIn):
    version: int | None = Field(default=None, ge=1, description="an existing version; or give spec or changes")

    def target(self) -> Target:
        """What to deploy: the version, the spec, the changes or a template (exactly one), parsed once here."""
        return parse_target(version=self.version, spec=self.spec, changes=self.changes, template=self.template)


class DeployIn(PreviewIn):
    deadline_seconds: int = Field(default=300, ge=5, le=3600)
    force: bool = Field(default=False, description="deploy even when the preview says some instances would not fit")


class ScaleIn(In):
    instances: int = Field(ge=0, le=500)
    deadline_seconds: int = Field(default=300, ge=5, le=3600)
    force: bool = Field(default=False, description="scale out even when some instances would not fit")


class RollbackIn(In):
    version: int = Field(ge=1)
    deadline_seconds: int = Field(default=300, ge=5, le=3600)


class ReconcileIn(In):
    deadline_seconds: int = Field(default=300, ge=5, le=3600)
