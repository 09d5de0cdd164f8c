"""Bodies of the release endpoints."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

from dockyard.api.schemas.versions import VersionIn
from dockyard.domain.release import Release, edge_share, split
from dockyard.domain.targets import Target, parse_target


class AnalysisIn(BaseModel):
    """How the release's ``analyze`` steps judge the canary against the stable version (docs/apm.md)."""

    interval_seconds: int | None = Field(default=None, ge=15, le=3600, description="one verdict every (default 30)")
    passes: int | None = Field(default=None, ge=1, le=20, description="passing intervals to go on (default 3)")
    failures: int | None = Field(default=None, ge=1, le=20, description="failing intervals in a row that abort (2)")
    min_requests: int | None = Field(
        default=None, ge=1, description="requests each side needs in an interval, else inconclusive (default 2000)"
    )
    p99_ratio: float | None = Field(default=None, ge=1, le=100, description="canary p99 / stable p99 allowed (1.5)")
    error_increase: float | None = Field(
        default=None, ge=0, le=1, description="error ratio the canary may add (default 0.01)"
    )
    restarts_increase: int | None = Field(default=None, ge=0, le=1000, description="restarts it may add (1)")
    usage_ratio: float | None = Field(default=None, ge=1, le=100, description="CPU or rss / stable's (1.5)")


class ReleaseIn(VersionIn):
    version: int | None = Field(default=None, ge=1, description="an existing version; or give spec or changes")
    strategy: Literal["gray", "rolling", "blue-green"] = "gray"
    steps: list[str] | None = Field(
        default=None,
        max_length=20,
        description=(
            "gray only: e.g. ['gray 2', 'pause', '50%', 'pause 5m', '100%'] or, with the edge load balancer's "
            "share of requests, ['gray 1', 'pause', 'weight 50%', 'pause', '100%']; default ['100%']"
        ),
    )
    step_deadline_seconds: int = Field(default=300, ge=5, le=3600, description="how long a step may take")
    max_restarts: int = Field(default=3, ge=0, le=100, description="restarts of a new instance that abort it")
    keep_seconds: int = Field(
        default=300, ge=0, le=86400, description="blue-green: how long the old set is kept after the switch"
    )
    analysis: AnalysisIn | None = Field(default=None, description="gray: how 'analyze' steps judge")

    def target(self) -> Target:
        """What to release: the version, the spec, the changes or a template (exactly one), parsed once here."""
        return parse_target(version=self.version, spec=self.spec, changes=self.changes, template=self.template)


class PromoteIn(BaseModel):
    full: bool = Field(default=False, description="skip to 100%")


class ReleaseOut(BaseModel):
    id: str
    system: str
    app: str
    group: str
    strategy: str
    stable_version: int | None
    new_version: int
    total: int
    steps: list[str]
    step: int = Field(description="the index in steps of the step under way (or the last one)")
    status: str = Field(description="progressing | paused | waiting | aborting | succeeded | aborted | failed")
    paused: bool
    new_instances: int = Field(description="instances of the new version once the current step is done")
    stable_instances: int
    edge_share: int | None = Field(
        description=(
            "percent of the group's requests the edge load balancer sends to the new version now: the last "
            "weight step done; null before any (by instance counts); 100 once done; 0 on abort"
        )
    )
    pause_until: dt.datetime | None
    ledger: list[dict[str, Any]]
    error: str
    created_by: str
    created_at: dt.datetime | None
    updated_at: dt.datetime | None
    clusters: list[dict[str, Any]] = Field(
        default_factory=list,
        description="a group on several clusters: [{cluster, instances}] in release order ([] on one cluster)",
    )
    cluster_index: int = Field(default=0, description="the cluster under way; total and step are that cluster's")

    @classmethod
    def of(cls, r: Release) -> ReleaseOut:
        if r.strategy == "gray":
            new, stable = split(r.parsed_steps, r.step, r.total)
        elif r.strategy == "blue-green" and r.step < 2 and r.active:
            new, stable = r.total, r.total
        else:
            new, stable = r.total, 0
        return cls(
            id=r.id,
            system=r.system,
            app=r.app,
            group=r.group,
            strategy=r.strategy,
            stable_version=r.stable_version,
            new_version=r.new_version,
            total=r.total,
            steps=list(r.steps),
            step=r.step,
            status=r.status,
            paused=r.paused,
            new_instances=new,
            stable_instances=stable,
            edge_share=edge_share(r),
            pause_until=r.pause_until,
            ledger=list(r.ledger),
            error=r.error,
            created_by=r.created_by,
            created_at=r.created_at,
            updated_at=r.updated_at,
            clusters=list(r.clusters),
            cluster_index=r.cluster_index,
        )
