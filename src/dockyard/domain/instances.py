"""One instance's actions and views: which instance a name means, its events, its log's tail.

Pure: the services read the watch caches and the cluster's API and hand the answers here.

- :func:`find` picks the instance a caller named among the group's (across its clusters); a name that
  is not one of the group's live instances is :class:`NotFound`, whichever namespace holds it, so an
  instance of another group or tenant is never reached through this group.
- :func:`check_tail` bounds how many log lines are read (``tail``: 1 to :data:`MAX_TAIL`).
- :func:`events` turns Kubernetes Events (``core/v1``, old or new fields) into rows, oldest first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from dockyard.domain.errors import InvalidInput, NotFound
from dockyard.domain.live import PodRecord
from dockyard.domain.model import GroupPath

MAX_TAIL = 5000
DEFAULT_TAIL = 200


@dataclass(frozen=True, slots=True)
class InstanceEvent:
    """What happened to an instance: scheduling, image pulls, probes, kills."""

    type: str  # Normal | Warning
    reason: str  # Scheduled, Pulling, Unhealthy, Killing, FailedScheduling, …
    message: str
    count: int
    first: float | None  # Unix time
    last: float | None
    source: str  # the component that reported it (scheduler, kubelet) and its host


def find(name: str, instances: Iterable[tuple[str, PodRecord]], group: GroupPath) -> tuple[str, PodRecord]:
    """``(cluster, instance)`` of the group's instance called ``name``; NotFound otherwise."""
    for cluster, pod in instances:
        if pod.name == name:
            return cluster, pod
    raise NotFound(f"instance {name!r} does not exist in group {group}")


def check_tail(tail: int) -> int:
    if isinstance(tail, bool) or not isinstance(tail, int) or not 1 <= tail <= MAX_TAIL:
        raise InvalidInput("tail", f"tail must be an integer from 1 to {MAX_TAIL}")
    return tail


def events(raw: Iterable[Mapping[str, Any]], *, uid: str = "") -> list[InstanceEvent]:
    """Rows of the Events about one instance, oldest first; with ``uid``, only those about that very
    pod (an earlier pod of the same name has another uid)."""
    rows = []
    for event in raw:
        involved = event.get("involvedObject") or event.get("regarding") or {}
        if uid and involved.get("uid") not in (None, "", uid):
            continue
        series = event.get("series") or {}
        first = _time(event.get("firstTimestamp")) or _time(event.get("eventTime"))
        last = (
            _time(event.get("lastTimestamp"))
            or _time(series.get("lastObservedTime"))
            or _time(event.get("eventTime"))
            or first
        )
        source = event.get("source") or {}
        component = source.get("component") or event.get("reportingComponent") or event.get("reportingController") or ""
        host = source.get("host") or event.get("reportingInstance") or ""
        rows.append(
            InstanceEvent(
                type=str(event.get("type") or "Normal"),
                reason=str(event.get("reason") or ""),
                message=str(event.get("message") or event.get("note") or "").strip(),
                count=int(event.get("count") or series.get("count") or 1),
                first=first,
                last=last,
                source=f"{component} {host}".strip() if host != component else str(component),
            )
        )
    return sorted(rows, key=lambda e: (e.last or 0.0, e.first or 0.0))


def log_lines(text: str) -> list[str]:
    """The lines of a log's tail (no empty last line from its final newline)."""
    return text.splitlines()


def _time(value: Any) -> float | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
