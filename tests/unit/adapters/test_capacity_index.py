"""The capacity caches' records and indexes (pure parts: no cluster)."""

import tracemalloc
from dataclasses import replace
from typing import Any, TypeVar

import msgspec

from dockyard.adapters.kube import wire
from dockyard.adapters.kube.capacity import NodeIndex, UsageIndex, slim_node, slim_usage
from dockyard.domain.capacity import Taint, Usage

GI = 1024**3
T = TypeVar("T")


def _decoded(kind: type[T], obj: dict[str, Any]) -> T:
    """An object as the apiserver sends it, decoded as the cache decodes it."""
    return msgspec.json.decode(msgspec.json.encode(obj), type=kind)


def _node(name: str, **spec: Any) -> wire.Node:
    return _decoded(
        wire.Node,
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": name,
                "labels": {"dockyard.io/pool": "idc-a-intel", "kubernetes.io/hostname": name, "other": "dropped"},
            },
            "spec": spec,
            "status": {
                "allocatable": {"cpu": "32", "memory": "128Gi", "pods": "110"},
                "conditions": [{"type": "Ready", "status": "True"}],
            },
        },
    )


def _pod(name: str, node: str = "n1", **spec: Any) -> wire.Pod:
    return _decoded(
        wire.Pod,
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "namespace": "shop",
                "labels": {"dockyard.io/app": "web", "dockyard.io/group": "prod", "dockyard.io/business-id": "b-1"},
            },
            "spec": {
                "nodeName": node,
                "priority": 1000,
                "containers": [
                    {"name": "app", "image": "web:3", "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}}},
                    {"name": "side", "image": "side:1", "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}}},
                ],
                "initContainers": [{"name": "init", "image": "i:1", "resources": {"requests": {"cpu": "2"}}}],
                **spec,
            },
            "status": {"phase": "Running"},
        },
    )


def test_slim_node_keeps_placement_labels_taints_and_allocatable() -> None:
    taint = {"key": "dockyard.io/dedicated", "value": "shop.web", "effect": "NoSchedule"}
    record = slim_node(_node("n1", unschedulable=True, taints=[taint]))
    assert dict(record.labels) == {"dockyard.io/pool": "idc-a-intel", "kubernetes.io/hostname": "n1"}
    assert record.taints == (Taint("dockyard.io/dedicated", "shop.web", "NoSchedule"),)
    assert (record.unschedulable, record.ready, record.cpu_millis, record.memory, record.pods) == (
        True,
        True,
        32000,
        128 * GI,
        110,
    )
    index = NodeIndex([record])
    index.remove("", "n1")
    assert len(index) == 0


def test_slim_usage_sums_requests_takes_the_init_max_and_the_anti_affinity() -> None:
    term = {"labelSelector": {"matchLabels": {"dockyard.io/group": "prod"}}, "topologyKey": "kubernetes.io/hostname"}
    record = slim_usage(
        _pod("web-1", affinity={"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term]}})
    )
    assert record == Usage(
        "shop",
        "web-1",
        "n1",
        "Running",
        2000,
        512 * 1024 * 1024,
        1000,
        "web",
        "prod",
        "b-1",
        (("dockyard.io/group", "prod"),),
        False,
    )


def test_the_index_keeps_each_nodes_sums_as_pods_come_move_and_go() -> None:
    index = UsageIndex()
    index.put(slim_usage(_pod("a", "n1")))
    index.put(slim_usage(_pod("b", "n1")))
    index.put(slim_usage(_pod("c", "")))
    assert index.used("n1") == (4000, GI, 2)
    assert index.pending() == 1
    index.put(slim_usage(_pod("c", "n2")))  # the pending pod got scheduled
    index.remove("shop", "a")
    assert (index.used("n1"), index.used("n2"), index.pending()) == ((2000, GI // 2, 1), (2000, GI // 2, 1), 0)
    assert [p.name for p in index.on("n1")] == ["b"]
    assert sorted(p.name for p in index.in_namespace("shop")) == ["b", "c"]
    index.remove("shop", "b")
    assert index.used("n1") == (0, 0, 0)
    assert len(index) == 1


def test_the_index_groups_a_namespaces_pods_by_what_selectors_read() -> None:
    index = UsageIndex()
    base = slim_usage(_pod("a", "n1"))
    index.put(base)
    index.put(replace(base, name="b", node="n2"))
    index.put(replace(base, name="c", group="canary"))
    index.put(replace(base, name="d", anti=(("dockyard.io/group", "prod"),)))
    index.put(replace(base, name="e", namespace="other"))
    assert sorted(sorted(p.name for p in alike) for alike in index.grouped("shop")) == [["a", "b"], ["c"], ["d"]]
    index.put(replace(base, name="c"))  # relabelled: moves to its new set
    index.remove("shop", "d")
    assert sorted(sorted(p.name for p in alike) for alike in index.grouped("shop")) == [["a", "b", "c"]]
    assert sorted(p.name for p in index.in_namespace("shop")) == ["a", "b", "c"]
    assert [p.name for p in index.in_namespace("other")] == ["e"]
    assert list(index.grouped("none")) == []


def test_a_usage_record_is_small() -> None:
    pods = [_pod(f"web-prod-7d9f8c6b5-{i:05d}", f"node-{i % 100:04d}") for i in range(2000)]
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    index = UsageIndex(slim_usage(p) for p in pods)
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    per_record = sum(s.size_diff for s in after.compare_to(before, "filename")) / len(index)
    assert per_record < 450, per_record  # about 340 bytes with the index
