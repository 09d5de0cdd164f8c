"""Answers of the live logs endpoints."""

from __future__ import annotations

from pydantic import BaseModel

from dockyard.domain.logs import LogLine
from dockyard.domain.logsearch import Stored
from dockyard.services.logs import Source


class LogLineOut(BaseModel):
    """One line of one instance: its time (RFC 3339, nanoseconds, UTC), where it comes from, its text."""

    time: str
    cluster: str
    instance: str
    version: str
    text: str

    @classmethod
    def of(cls, line: LogLine) -> LogLineOut:
        return cls(
            time=line.timestamp, cluster=line.cluster, instance=line.instance, version=line.version, text=line.text
        )


class LogInstanceOut(BaseModel):
    """An instance a stream attached to or that ended."""

    cluster: str
    instance: str
    version: str

    @classmethod
    def of(cls, source: Source) -> LogInstanceOut:
        return cls(cluster=source.cluster.name, instance=source.pod.name, version=source.pod.version)


class LogsOut(BaseModel):
    """Lines in time order and the resume point after them (pass it as ``after`` to get what follows)."""

    lines: list[LogLineOut]
    cursor: str


class StoredLineOut(BaseModel):
    """A stored line found by a search: as :class:`LogLineOut`, with its level ("" if none was seen)."""

    time: str
    cluster: str
    instance: str
    version: str
    level: str
    text: str

    @classmethod
    def of(cls, stored: Stored) -> StoredLineOut:
        line = stored.line
        return cls(
            time=line.timestamp,
            cluster=line.cluster,
            instance=line.instance,
            version=line.version,
            level=stored.level,
            text=line.text,
        )


class LogSearchOut(BaseModel):
    """The newest ``limit`` matching lines, in time order; ``more``: older ones matched too (narrow
    the search, or move ``until`` back to the first line's time)."""

    lines: list[StoredLineOut]
    more: bool
