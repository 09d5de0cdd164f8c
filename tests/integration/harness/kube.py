"""Reading what runs in a sandbox cluster: a group's live pods, their versions, and waiting for them."""

from __future__ import annotations

from collections import Counter
from typing import Any

from dockyard.adapters.kube.client import KubeCluster
from dockyard.adapters.kube.errors import KubeNotFoundError
from tests.integration.harness.waiting import Not, eventually


def condition(obj: dict[str, Any], kind: str = "Ready") -> bool:
    """Whether ``obj`` (a pod, node, APIService…) has condition ``kind`` True."""
    conditions = (obj.get("status") or {}).get("conditions") or []
    return any(c.get("type") == kind and c.get("status") == "True" for c in conditions)


async def live_pods(kube: KubeCluster, namespace: str, group: str = "prod") -> list[dict[str, Any]]:
    """The group's pods that are not being deleted."""
    pods = await kube.list("v1", "Pod", namespace=namespace, labels={"dockyard.io/group": group})
    return [p for p in pods if not p["metadata"].get("deletionTimestamp")]


async def versions(kube: KubeCluster, namespace: str, group: str = "prod") -> Counter[str]:
    """How many live pods of the group run each version."""
    return Counter(p["metadata"]["labels"]["dockyard.io/version"] for p in await live_pods(kube, namespace, group))


async def settled(
    kube: KubeCluster, namespace: str, want: dict[str, int], *, group: str = "prod", timeout: float = 90
) -> list[dict[str, Any]]:
    """The group's live pods once they are exactly ``want`` (version: count), old ones gone."""

    async def check() -> tuple[list[dict[str, Any]]] | Not:
        pods = await live_pods(kube, namespace, group)
        counts = Counter(p["metadata"]["labels"]["dockyard.io/version"] for p in pods)
        return (pods,) if counts == Counter(want) else Not(dict(counts))

    (pods,) = await eventually(check, f"pods of {namespace}/{group} to be {want}", timeout=timeout)
    return pods


async def exists(kube: KubeCluster, version: str, kind: str, name: str, namespace: str | None = None) -> bool:
    try:
        await kube.get(version, kind, name, namespace=namespace)
    except KubeNotFoundError:
        return False
    return True
