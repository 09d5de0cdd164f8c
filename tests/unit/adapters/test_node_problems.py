"""The node cache keeps a node's problem conditions and kubelet version (for the inspection), and
nothing for a healthy node's conditions."""

from __future__ import annotations

from typing import Any

import msgspec

from dockyard.adapters.kube import wire
from dockyard.adapters.kube.capacity import slim_node


def node(conditions: list[dict[str, Any]], **status: Any) -> wire.Node:
    body = {"metadata": {"name": "n1"}, "status": {"conditions": conditions, **status}}
    return msgspec.json.decode(msgspec.json.encode(body), type=wire.Node)


HEALTHY = [
    {"type": "Ready", "status": "True", "reason": "KubeletReady"},
    {"type": "MemoryPressure", "status": "False"},
    {"type": "KernelDeadlock", "status": "False", "reason": "KernelHasNoDeadlock"},
]


def test_a_healthy_node_keeps_no_condition_and_its_kubelet_version() -> None:
    record = slim_node(node(HEALTHY, nodeInfo={"kubeletVersion": "v1.34.1", "osImage": "ignored"}))
    assert record.problems == ()
    assert record.kubelet == "v1.34.1"
    assert record.ready


def test_problems_are_kept_with_reason_and_a_short_message() -> None:
    sick = [
        {"type": "Ready", "status": "Unknown", "reason": "NodeStatusUnknown", "message": "Kubelet stopped posting"},
        {"type": "DiskPressure", "status": "True", "reason": "KubeletHasDiskPressure", "message": ""},
        {"type": "ReadonlyFilesystem", "status": "True", "reason": "FilesystemIsReadOnly", "message": "x" * 500},
        {"type": "KernelDeadlock", "status": "False"},
    ]
    record = slim_node(node(sick))
    assert [(t, r) for t, r, _ in record.problems] == [
        ("Ready", "NodeStatusUnknown"),
        ("DiskPressure", "KubeletHasDiskPressure"),
        ("ReadonlyFilesystem", "FilesystemIsReadOnly"),
    ]
    assert len(record.problems[2][2]) == 200
    assert not record.ready
    assert record.kubelet == ""


def test_equal_problem_sets_share_one_tuple() -> None:
    sick = [{"type": "KernelDeadlock", "status": "True", "reason": "DockerHung", "message": "m"}]
    assert slim_node(node(sick)).problems is slim_node(node(sick)).problems


def test_the_images_and_the_ephemeral_storage_a_kubelet_reports_are_kept_as_bytes() -> None:
    images = [{"names": ["a:1"], "sizeBytes": 300_000_000}, {"names": ["b:1"], "sizeBytes": 200_000_000}, {"names": []}]
    record = slim_node(node(HEALTHY, images=images, allocatable={"ephemeral-storage": "10Gi", "cpu": "2"}))
    assert (record.images, record.ephemeral) == (500_000_000, 10 * 1024**3)
    kwok = slim_node(node(HEALTHY, allocatable={"cpu": "32"}))  # KWOK's nodes report neither
    assert (kwok.images, kwok.ephemeral) == (0, 0)
