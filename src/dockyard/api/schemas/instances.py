"""One instance's answers: a restart, its log's tail, its events."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from dockyard.api.schemas.groups import InstanceOut
from dockyard.domain.instances import InstanceEvent


class RestartOut(BaseModel):
    instance: InstanceOut = Field(description="the instance as it was when its pod was deleted")
    message: str


class InstanceLogOut(BaseModel):
    instance: str
    cluster: str
    previous: bool = Field(description="the log of the container's previous run")
    lines: list[str] = Field(description="the last lines, oldest first, each with its RFC 3339 timestamp")


class InstanceEventOut(BaseModel):
    type: str = Field(description="Normal or Warning")
    reason: str
    message: str
    count: int
    first_at: dt.datetime | None
    last_at: dt.datetime | None
    source: str

    @classmethod
    def of(cls, e: InstanceEvent) -> InstanceEventOut:
        return cls(
            type=e.type,
            reason=e.reason,
            message=e.message,
            count=e.count,
            first_at=_at(e.first),
            last_at=_at(e.last),
            source=e.source,
        )


class InstanceEventsOut(BaseModel):
    instance: str
    cluster: str
    items: list[InstanceEventOut]


def _at(t: float | None) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(t, dt.UTC) if t is not None else None
