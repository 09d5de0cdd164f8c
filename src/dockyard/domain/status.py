"""A group's state as the console and the CLI show it, from what the watch caches hold (pure).

- ``not-deployed``: no version runs yet and nothing is under way;
- ``progressing``: an operation on the group is unfinished;
- ``drifted``: the live workload differs from the running version (someone edited it by hand);
- ``healthy``: every wanted instance runs the current version and is ready, and no other is left;
- ``degraded``: anything else (instances missing, not ready, or of another version);
- ``unknown``: the cluster's watch is disconnected and nothing is cached.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

State = Literal["not-deployed", "progressing", "healthy", "degraded", "drifted", "unknown"]


@dataclass(frozen=True)
class InstanceView:
    version: str
    ready: bool
    deleting: bool = False


def group_state(
    *,
    current_version: int | None,
    wanted: int,
    instances: Sequence[InstanceView],
    busy: bool,
    drifted: bool,
    connected: bool,
) -> State:
    if busy:
        return "progressing"
    if current_version is None:
        return "not-deployed"
    if not connected and not instances:
        return "unknown"
    if drifted:
        return "drifted"
    live = [i for i in instances if not i.deleting]
    current = str(current_version)
    good = sum(1 for i in live if i.version == current and i.ready)
    if good == wanted and len(live) == wanted:
        return "healthy"
    return "degraded"
