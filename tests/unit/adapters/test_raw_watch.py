"""The watch caches decode the apiserver's JSON straight into slim records: a table of pod JSON →
record, and the list → watch loop over a fake transport (pages, bookmarks, deletions, 410 Gone)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Mapping
from typing import Any, cast

import msgspec
import pytest

from dockyard.adapters.kube import wire
from dockyard.adapters.kube.capacity import UsageCache, slim_node, slim_usage
from dockyard.adapters.kube.client import KubeCluster
from dockyard.adapters.kube.errors import KubeApiError
from dockyard.adapters.kube.watch import PodCache, PodRecord, slim
from dockyard.adapters.kube.watching import label_selector

LABELS = {"dockyard.io/app": "web", "dockyard.io/group": "prod", "dockyard.io/version": "3"}
META = {
    "name": "web-1",
    "namespace": "shop",
    "uid": "u1",
    "creationTimestamp": "2026-11-23T00:00:00Z",
    "labels": LABELS,
}
EMPTY = PodRecord("", "", "", "", "", "", "Pending", False, 0, "", "", "", 0.0, "", False)
BASE = EMPTY.__class__(
    "shop", "web-1", "u1", "web", "prod", "3", "Pending", False, 0, "", "", "", 1795392000.0, "", False
)


def _record(pod: Mapping[str, Any]) -> PodRecord:
    return slim(msgspec.json.decode(json.dumps(pod), type=wire.Pod))


def _with(**changes: Any) -> PodRecord:
    fields = {f: getattr(BASE, f) for f in PodRecord.__slots__}
    return PodRecord(**{**fields, **changes})


RUNNING = {
    "phase": "Running",
    "podIP": "10.128.0.5",
    "hostIP": "10.0.0.1",
    "conditions": [{"type": "PodScheduled", "status": "True"}, {"type": "Ready", "status": "True"}],
    "containerStatuses": [
        {"name": "app", "restartCount": 2, "state": {"running": {"startedAt": "2026-11-23T00:00:01Z"}}}
    ],
}
CASES: list[tuple[str, dict[str, Any], PodRecord]] = [
    ("nothing at all", {}, EMPTY),
    ("just made: no spec, no status", {"metadata": META}, BASE),
    ("nulls where a field may be empty", {"metadata": {**META, "labels": None}, "spec": None, "status": None},
     _with(app="", group="", version="")),
    ("running and ready, on a node", {"metadata": META, "spec": {"nodeName": "n1"}, "status": RUNNING},
     _with(phase="Running", ready=True, restarts=2, pod_ip="10.128.0.5", host_ip="10.0.0.1", node="n1")),
    ("unschedulable: the scheduler's message", {"metadata": META, "status": {"phase": "Pending", "conditions": [
        {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "0/3 nodes are available"}]}},
     _with(reason="0/3 nodes are available")),
    ("unschedulable without a message: the reason", {"metadata": META, "status": {"conditions": [
        {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": None}]}},
     _with(reason="Unschedulable")),
    ("crash looping", {"metadata": META, "status": {"phase": "Running", "containerStatuses": [
        {"restartCount": 5, "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off"}}}]}},
     _with(phase="Running", restarts=5, reason="CrashLoopBackOff")),
    ("terminated", {"metadata": META, "status": {"phase": "Failed", "containerStatuses": [
        {"restartCount": 0, "state": {"terminated": {"reason": "OOMKilled", "exitCode": 137}}}]}},
     _with(phase="Failed", reason="OOMKilled")),
    ("running, readiness probe not passed", {"metadata": META, "status": {"phase": "Running", "containerStatuses": [
        {"restartCount": 0, "ready": False, "state": {"running": {"startedAt": "2026-11-23T00:01:00Z"}}}]}},
     _with(phase="Running", reason="running, not ready: its readiness probe has not passed")),
    ("running and ready: no reason", {"metadata": META, "status": {"phase": "Running", "containerStatuses": [
        {"restartCount": 0, "ready": True, "state": {"running": {"startedAt": "2026-11-23T00:01:00Z"}}}]}},
     _with(phase="Running")),
    ("being deleted", {"metadata": {**META, "deletionTimestamp": "2026-11-23T00:05:00Z"}}, _with(deleting=True)),
    ("fields it does not read are skipped, whatever they hold",
     {"metadata": {**META, "managedFields": [{"manager": "kubelet", "fieldsV1": {"f:status": {}}}],
                   "annotations": {"a": "b"}, "ownerReferences": [{"kind": "ReplicaSet"}]},
      "spec": {"volumes": [{"name": "x", "configMap": {"name": "c"}}], "tolerations": [], "newField": {"x": [1]}},
      "status": {"qosClass": "Guaranteed", "podIPs": [{"ip": "10.128.0.5"}]}},
     BASE),
]  # fmt: skip


@pytest.mark.parametrize(("pod", "expected"), [(p, r) for _, p, r in CASES], ids=[c[0] for c in CASES])
def test_pod_json_becomes_its_record(pod: dict[str, Any], expected: PodRecord) -> None:
    assert _record(pod) == expected


def test_usage_and_node_records_from_json() -> None:
    pod = {
        "metadata": {**META, "labels": {**LABELS, "dockyard.io/business-id": "b-1"}},
        "spec": {
            "nodeName": "n1",
            "priority": None,
            "containers": [{"resources": {"requests": {"cpu": "250m", "memory": "1Gi"}}}, {"resources": {}}, {}],
            "initContainers": [{"resources": {"requests": {"cpu": "1"}}}],
            "affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                {"topologyKey": "topology.kubernetes.io/zone", "labelSelector": {"matchLabels": {"a": "zone"}}},
                {"topologyKey": "kubernetes.io/hostname",
                 "labelSelector": {"matchLabels": {"dockyard.io/group": "prod"}}},
            ]}},
        },
    }  # fmt: skip
    usage = slim_usage(msgspec.json.decode(json.dumps(pod), type=wire.Pod))
    assert (usage.node, usage.phase, usage.cpu_millis, usage.memory, usage.priority) == (
        "n1",
        "Pending",
        1000,
        2**30,
        0,
    )
    assert (usage.business, usage.anti) == ("b-1", (("dockyard.io/group", "prod"),))
    node = {
        "metadata": {"name": "n1", "labels": {"kubernetes.io/hostname": "n1", "unread": "x"}},
        "spec": {"taints": [{"key": "k", "effect": "NoSchedule"}]},
        "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"}, "conditions": [{"type": "Ready"}]},
    }
    info = slim_node(msgspec.json.decode(json.dumps(node), type=wire.Node))
    assert (info.name, dict(info.labels), info.taints[0].value, info.ready, info.pods) == (
        "n1",
        {"kubernetes.io/hostname": "n1"},
        "",
        False,
        110,
    )


def test_label_selectors_as_the_apiserver_reads_them() -> None:
    assert label_selector({"dockyard.io/group": None, "app.kubernetes.io/managed-by": "dockyard"}) == (
        "dockyard.io/group,app.kubernetes.io/managed-by=dockyard"
    )


def _pod(name: str, version: str, *, phase: str = "Running") -> dict[str, Any]:
    return {"metadata": {**META, "name": name, "resourceVersion": version}, "status": {"phase": phase}}


class FakeApi:
    """An apiserver's list pages and watch streams for one collection, recording what was asked."""

    def __init__(self, pages: list[dict[str, Any]], streams: list[list[dict[str, Any]]]) -> None:
        self.pages, self.streams = pages, streams
        self.asked: list[tuple[str, dict[str, str]]] = []
        self.ended = asyncio.Event()

    async def get_bytes(self, path: str, params: Mapping[str, str]) -> bytes:
        self.asked.append((path, dict(params)))
        page = self.pages.pop(0)
        if "code" in page:
            raise KubeApiError(page["message"], status=page["code"])
        return json.dumps(page).encode()

    @contextlib.asynccontextmanager
    async def watch_lines(self, path: str, params: Mapping[str, str]) -> AsyncIterator[AsyncIterator[str]]:
        self.asked.append((path, dict(params)))
        events = self.streams.pop(0) if self.streams else None

        async def lines() -> AsyncIterator[str]:
            if events is None:
                self.ended.set()
                await asyncio.Event().wait()  # nothing more: hang as a quiet watch does
            for event in events or []:
                yield json.dumps(event)
                yield ""  # blank lines (keep-alives) are skipped

        yield lines()


async def _run_until_ended(cache: PodCache | UsageCache, api: FakeApi) -> bool:
    """Run ``cache`` until ``api`` has nothing more to send; whether it was connected then."""
    task = asyncio.create_task(cache.run())
    try:
        await asyncio.wait_for(api.ended.wait(), 5)
        return cache.connected
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_list_pages_then_watch_with_bookmarks_deletions_and_a_relist_on_410() -> None:
    api = FakeApi(
        pages=[
            {"metadata": {"resourceVersion": "", "continue": "page2"}, "items": [_pod("a", "1"), _pod("b", "2")]},
            {"metadata": {"resourceVersion": "10"}, "items": [_pod("c", "3")]},
            {"metadata": {"resourceVersion": "30"}, "items": [_pod("x", "29")]},  # the relist after 410
        ],
        streams=[
            [
                {"type": "MODIFIED", "object": _pod("a", "11", phase="Failed")},
                {"type": "DELETED", "object": _pod("b", "12")},
                {"type": "BOOKMARK", "object": {"kind": "Pod", "metadata": {"resourceVersion": "15"}}},
            ],  # the server ends the watch: go on from the bookmark's version
            [{"type": "ADDED", "object": _pod("d", "16")}],
            [{"type": "ERROR", "object": {"kind": "Status", "status": "Failure", "code": 410, "reason": "Expired"}}],
        ],
    )
    cache = PodCache(cast(KubeCluster, api))
    seen: list[list[tuple[str, str]]] = []
    original = cache._apply

    def recording(line: str) -> str | None:
        version = original(line)
        seen.append([(r.name, r.phase) for r in cache.group_pods("shop", "web", "prod")])
        return version

    cache._apply = recording  # type: ignore[method-assign]
    connected = await _run_until_ended(cache, api)

    assert seen[:3] == [
        [("a", "Failed"), ("b", "Running"), ("c", "Running")],
        [("a", "Failed"), ("c", "Running")],
        [("a", "Failed"), ("c", "Running")],
    ]
    assert seen[3] == [("a", "Failed"), ("c", "Running"), ("d", "Running")]
    assert [(r.name, r.phase) for r in cache.group_pods("shop", "web", "prod")] == [("x", "Running")]
    assert cache.lists == 2
    assert connected
    lists = [params for path, params in api.asked if "watch" not in params]
    watches = [params for path, params in api.asked if "watch" in params]
    assert lists[0] == {"labelSelector": "dockyard.io/group", "limit": "500"}
    assert lists[1]["continue"] == "page2"
    assert [w["resourceVersion"] for w in watches] == ["10", "15", "16", "30"]
    assert all(w["allowWatchBookmarks"] == "true" and w["labelSelector"] == "dockyard.io/group" for w in watches)
    assert {path for path, _ in api.asked} == {"/api/v1/pods"}


async def test_an_error_answer_disconnects_and_keeps_the_last_records() -> None:
    api = FakeApi(
        pages=[{"metadata": {"resourceVersion": "5"}, "items": [_pod("a", "1")]}],
        streams=[[{"type": "ERROR", "object": {"kind": "Status", "code": 500, "message": "etcd is away"}}]],
    )
    cache = UsageCache(cast(KubeCluster, api))
    task = asyncio.create_task(cache.run())
    try:
        for _ in range(100):
            await asyncio.sleep(0.01)
            if cache.last_error:
                break
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert cache.stale
    assert cache.last_error == "apiserver answered 500: etcd is away"
    assert [u.name for u in cache.index] == ["a"]
    assert api.asked[0][1]["fieldSelector"] == "status.phase!=Succeeded,status.phase!=Failed"
