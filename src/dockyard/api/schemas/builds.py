"""Bodies of the build and image endpoints."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from dockyard.api.schemas.common import In
from dockyard.domain.builds import Build
from dockyard.services.images import GcResult, ImageUse


class BuildIn(In):
    source: str | None = Field(
        default=None,
        max_length=2000,
        description="git URL (https://, ssh://, user@host:path, or file:///path under an allowed root); "
        "default: the application's last build's source",
    )
    commit: str | None = Field(default=None, max_length=40, description="a commit sha (7–40 hex)")
    branch: str | None = Field(default=None, max_length=200)
    tag: str | None = Field(default=None, max_length=200)
    dockerfile: str = Field(default="Dockerfile", max_length=255, description="path in the repository")
    build_args: dict[str, str] | None = Field(default=None, description="--build-arg NAME=value")
    force: bool = Field(default=False, description="build even if this commit's image exists")
    timeout_seconds: int | None = Field(default=None, description="at most the build_timeout setting")


class BuildOut(BaseModel):
    id: str
    system: str
    app: str
    status: str = Field(description="queued | cloning | building | pushing | succeeded | failed | cancelled")
    source: str
    ref_kind: str
    ref: str
    dockerfile: str
    build_args: dict[str, str]
    force: bool
    timeout_seconds: int
    commit: str = Field(description="the full sha the reference resolved to")
    image: str = Field(description="repository@sha256:… once succeeded")
    digest: str
    tag: str
    reason: str
    reused_from: str
    cancel_requested: bool
    created_by: str
    created_at: dt.datetime | None
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    duration_seconds: float | None

    @classmethod
    def of(cls, b: Build) -> BuildOut:
        return cls(
            id=b.id,
            system=b.system,
            app=b.app,
            status=b.status,
            source=b.source.url,
            ref_kind=b.source.ref_kind,
            ref=b.source.ref,
            dockerfile=b.source.dockerfile,
            build_args=dict(b.build_args),
            force=b.force,
            timeout_seconds=b.timeout_seconds,
            commit=b.commit,
            image=b.image,
            digest=b.digest,
            tag=b.tag,
            reason=b.reason,
            reused_from=b.reused_from,
            cancel_requested=b.cancel_requested,
            created_by=b.created_by,
            created_at=b.created_at,
            started_at=b.started_at,
            finished_at=b.finished_at,
            duration_seconds=b.duration_seconds,
        )


class LogLine(BaseModel):
    seq: int
    line: str


class BuildLogOut(BaseModel):
    status: str
    lines: list[LogLine]


class ImageOut(BaseModel):
    tag: str
    digest: str
    size: int
    versions: list[str] = Field(description="group/version of the versions using it")
    running: list[str] = Field(description="groups running it now")

    @classmethod
    def of(cls, i: ImageUse) -> ImageOut:
        return cls(
            tag=i.tag,
            digest=i.digest,
            size=i.size,
            versions=[f"{g}/{n}" for g, n in i.versions],
            running=list(i.running),
        )


class GcIn(In):
    keep: int | None = Field(default=None, ge=1, le=1000, description="versions kept per group (default: image_keep)")
    dry_run: bool = False


class GcOut(BaseModel):
    deleted: list[str]
    kept: list[str]
    dry_run: bool

    @classmethod
    def of(cls, r: GcResult) -> GcOut:
        return cls(deleted=list(r.deleted), kept=list(r.kept), dry_run=r.dry_run)
