"""The resource pool's garbage: what no system, group or dedication owns."""

from __future__ import annotations

from typing import Any

from dockyard.domain.capacity import NodeInfo, Taint
from dockyard.domain.gc import Leftover, leftovers, stale_dedications

MANAGED = {"app.kubernetes.io/managed-by": "dockyard"}


def obj(kind: str, name: str, namespace: str = "", **labels: str) -> dict[str, Any]:
    return {"kind": kind, "metadata": {"name": name, "namespace": namespace, "labels": {**MANAGED, **labels}}}


def test_leftovers_are_objects_of_missing_groups_and_namespaces_of_deleted_systems() -> None:
    group = {"dockyard.io/app": "web", "dockyard.io/group": "prod"}
    gone = {"dockyard.io/app": "web", "dockyard.io/group": "old"}
    objects = [
        obj("Namespace", "shop", **{"dockyard.io/system": "shop"}),
        obj("Namespace", "ghost", **{"dockyard.io/system": "ghost"}),
        obj("Deployment", "web-prod", "shop", **group),
        obj("Deployment", "web-old", "shop", **gone),
        obj("ConfigMap", "web-old-v1", "shop", **gone),
        obj("Service", "web-x", "ghost", **gone),  # reported with its namespace
        {"kind": "Secret", "metadata": {"name": "theirs", "namespace": "shop", "labels": gone}},  # not ours
    ]
    found = leftovers(objects, systems={"shop"}, groups={("shop", "web", "prod")})
    assert found == [
        Leftover("ConfigMap", "shop", "web-old-v1", "group shop/web/old does not exist"),
        Leftover("Deployment", "shop", "web-old", "group shop/web/old does not exist"),
        Leftover("Namespace", "", "ghost", "system 'ghost' was deleted"),
    ]


def test_stale_dedications() -> None:
    def node(name: str, pool: str, mark: str | None) -> NodeInfo:
        labels = (("dockyard.io/pool", pool),) + ((("dockyard.io/dedicated", mark),) if mark else ())
        taints = (Taint("dockyard.io/dedicated", mark, "NoSchedule"),) if mark else ()
        return NodeInfo(name, labels, taints, False, True, 1000, 1000, 10)

    nodes = [node("a", "p1", "shop.web"), node("b", "p2", "shop.web"), node("c", "p3", None)]
    assert stale_dedications(nodes, {"p1": "shop.web", "p3": "shop.api"}) == [
        Leftover("Node", "", "b", "dedicated to shop.web but its pool is not dedicated")
    ]
