"""A group's state as the console and the CLI show it, from what the watch caches hold (pure).

- ``not-deployed``: no version runs yet and nothing is under way;
- ``progressing``: an operation on the group is unfinished;
- ``drifted``: the live workload differs from the running version (someone edited it by hand);
- ``healthy``: every wanted instance runs the current version and is ready, and no other is left;
- ``degraded``: anything else (instances missing, not ready, or of another version);
- ``unknown``: the cluster's watch is disconnected and nothing is cached.

A group on several clusters has a state on each (:func:`cluster_state`: ``unreachable`` for a cluster
whose watch is disconnected) and one for the whole (:func:`combined_state`). Drift is told only where
the cache can tell it (:func:`can_tell_drift`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from dockyard.domain.model import Group, GroupCluster

State = Literal["not-deployed", "progressing", "healthy", "degraded", "drifted", "unknown"]
ClusterStateName = State | Literal["unreachable"]
SETTLE = 5.0  # seconds after an operation's end during which the watch caches may lag behind it


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


def cluster_state(
    *,
    current_version: int | None,
    wanted: int,
    instances: Sequence[InstanceView],
    busy: bool,
    drifted: bool,
    connected: bool,
    several: bool,
) -> ClusterStateName:
    """The group's state on one of its clusters: :func:`group_state`, but ``unreachable`` while the
    cluster's watch is disconnected when the group runs on ``several`` clusters."""
    if several and not connected:
        return "unreachable"
    return group_state(
        current_version=current_version,
        wanted=wanted,
        instances=instances,
        busy=busy,
        drifted=drifted,
        connected=connected,
    )


def combined_state(states: Sequence[ClusterStateName]) -> State:
    """One state for the group from its clusters': all alike is that state; else progressing if any
    is, degraded if any is degraded or unreachable, drifted if any is; any other mix is degraded."""
    if states and (first := states[0]) != "unreachable" and all(s == first for s in states):
        return first
    if "progressing" in states:
        return "progressing"
    if "degraded" in states or "unreachable" in states:
        return "degraded"
    return "drifted" if "drifted" in states else "degraded"


def parts(group: Group, wanted: int) -> list[GroupCluster]:
    """Where the group runs; a group never deployed (or recorded before many clusters) is on its home
    cluster with ``wanted`` instances."""
    return list(group.clusters) or [GroupCluster(group.cluster, wanted, group.current_version)]


def settled(finished_at: dt.datetime | None, now: float) -> bool:
    """Whether the watch caches have had :data:`SETTLE` seconds to see the last operation's writes."""
    return finished_at is None or now - finished_at.timestamp() > SETTLE


def can_tell_drift(*, running: int | None, here: int | None, busy: bool, connected: bool, settled: bool) -> bool:
    """Drift is told on a cluster only against the version that runs there (``running`` is the group's,
    ``here`` the cluster's), with no operation under way, from a connected cache that has settled: a
    stale cache cannot tell it, nor one that may not have seen the last operation's writes yet."""
    return running is not None and not busy and connected and settled and here == running
