"""Spare capacity: how many instances of a version still fit on a cluster, for the proportional
distribution of a group over its clusters (domain/location.py).

:class:`SpareCapacity` is the interface the split uses. :class:`CachedSpareCapacity` answers it from
the cluster's node and pod watch caches (the platform's :class:`~dockyard.services.ports.LiveView`)
through the preview's pure fit (:func:`dockyard.domain.fit.spare`): no API call, so request paths
(preview, deploy's fit check) and operations compute the same split. The group's current instances
there count as room it can reuse.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Protocol

from dockyard.domain.capacity import APP_LABEL, GROUP_LABEL, shape_of
from dockyard.domain.errors import Unavailable
from dockyard.domain.fit import spare
from dockyard.domain.render import GroupRef, deployment
from dockyard.domain.versions import VersionSpec
from dockyard.services.platform import Platform

SYNC_WAIT = 30.0  # seconds an operation waits for a cluster's caches to make their first list


class SpareCapacity(Protocol):
    async def instances_that_fit(self, cluster: str, spec: VersionSpec) -> int:
        """How many instances of ``spec`` fit on ``cluster`` (the group's own counted as room);
        :class:`Unavailable` when it cannot tell."""
        ...


class CachedSpareCapacity:
    """From the watch caches, for the group rendered as ``refs[cluster]`` on each cluster, version ``number``.
    ``wait``: seconds to wait for a cluster's caches to sync (operations; 0 in request paths)."""

    def __init__(self, platform: Platform, refs: Mapping[str, GroupRef], number: int, *, wait: float = 0) -> None:
        self._platform, self._refs, self._number, self._wait = platform, refs, number, wait

    async def instances_that_fit(self, cluster: str, spec: VersionSpec) -> int:
        live = self._platform.live
        until = time.monotonic() + self._wait
        while not (live.capacity(cluster).synced and live.connection(cluster).connected):
            if time.monotonic() >= until:
                raise Unavailable(
                    f"Dockyard's view of cluster {cluster!r} is not synced: its spare capacity is unknown"
                )
            await asyncio.sleep(0.5)
        ref = self._refs[cluster]
        capacity = live.capacity(cluster)
        shape = shape_of(ref.namespace, deployment(ref, self._number, spec)["spec"]["template"])
        replacing = ((APP_LABEL, ref.app), (GROUP_LABEL, ref.group))  # in the shape's namespace
        return spare(capacity.nodes, capacity.usage, shape, replacing=replacing)
