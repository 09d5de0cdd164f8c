"""Spare capacity: how many instances of a flavor still fit on a cluster, for the proportional
distribution of a group over its clusters (domain/location.py).

:class:`SpareCapacity` is the interface operations use. :class:`ApiSpareCapacity` answers it by
listing the cluster's nodes and pods through its API when asked: it is called inside operations
(deploy, scale) only, never in a request path. The node and pod watch caches planned beside the
placement preview can answer the same question without API calls and replace it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from dockyard.adapters.kube.client import KubeCluster
from dockyard.domain.flavors import Flavor
from dockyard.domain.location import instances_that_fit, node_rooms
from dockyard.domain.placement import CPU_MODEL_LABEL, POOL_LABEL, Placement


class SpareCapacity(Protocol):
    async def instances_that_fit(self, cluster: str, flavor: Flavor, placement: Placement | None) -> int:
        """How many more instances of ``flavor`` fit on ``cluster``'s nodes that ``placement``
        allows; raises the cluster adapter's errors when it cannot tell."""
        ...


class ApiSpareCapacity:
    """Lists nodes and pods through the apiserver at each call (operations only, see the module)."""

    def __init__(self, client_of: Callable[[str], Awaitable[KubeCluster]]) -> None:
        self._client_of = client_of

    async def instances_that_fit(self, cluster: str, flavor: Flavor, placement: Placement | None) -> int:
        kube = await self._client_of(cluster)
        selector = {
            k: v
            for k, v in (
                (POOL_LABEL, placement and placement.pool),
                (CPU_MODEL_LABEL, placement and placement.cpu_model),
            )
            if v
        }
        nodes = await kube.list("v1", "Node", labels=selector or None)
        pods = await kube.list("v1", "Pod")
        rooms = node_rooms(nodes, pods, selector=selector)
        return instances_that_fit(rooms, cpu_millis=flavor.cpu_millis, memory_mib=flavor.memory_mib)
