"""The watch cache's records and index (pure parts: no cluster)."""

import tracemalloc
from typing import Any

import msgspec

from dockyard.adapters.kube import wire
from dockyard.adapters.kube.watch import PodIndex, PodRecord, slim


def _pod(name: str, *, group: str = "prod", ready: bool = True, **status: Any) -> wire.Pod:
    """A pod as the apiserver sends it, decoded as the cache decodes it."""
    return msgspec.json.decode(msgspec.json.encode(_pod_json(name, group=group, ready=ready, **status)), type=wire.Pod)


def _pod_json(name: str, *, group: str = "prod", ready: bool = True, **status: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": "shop",
            "uid": f"uid-{name}",
            "creationTimestamp": "2026-11-23T00:00:00Z",
            "labels": {"dockyard.io/app": "web", "dockyard.io/group": group, "dockyard.io/version": "3"},
        },
        "spec": {"nodeName": "idc-a-amd-0001", "containers": [{"name": "app", "image": "web:3"}]},
        "status": {
            "phase": "Running",
            "podIP": "10.128.0.5",
            "hostIP": "127.0.0.1",
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            "containerStatuses": [
                {
                    "name": "app",
                    "image": "web:3",
                    "imageID": "",
                    "ready": ready,
                    "restartCount": 2,
                    "containerID": "containerd://4f2a",
                    "state": {"running": {}},
                }
            ],
            **status,
        },
    }


def test_slim_keeps_what_an_instance_list_shows() -> None:
    record = slim(_pod("web-1"))
    assert record == PodRecord(
        namespace="shop",
        name="web-1",
        uid="uid-web-1",
        app="web",
        group="prod",
        version="3",
        phase="Running",
        ready=True,
        restarts=2,
        pod_ip="10.128.0.5",
        host_ip="127.0.0.1",
        node="idc-a-amd-0001",
        created=1795392000.0,
        reason="",
        deleting=False,
        container_id="containerd://4f2a",  # a real node's runtime id; KWOK's pods have none
    )


def test_slim_tells_why_an_instance_is_not_running() -> None:
    unscheduled = slim(
        _pod(
            "web-2",
            ready=False,
            phase="Pending",
            conditions=[
                {
                    "type": "PodScheduled",
                    "status": "False",
                    "reason": "Unschedulable",
                    "message": "0/20 nodes are available: 20 Insufficient cpu.",
                }
            ],
        )
    )
    assert unscheduled.reason == "0/20 nodes are available: 20 Insufficient cpu."
    crashing = slim(
        _pod(
            "web-3",
            ready=False,
            containerStatuses=[
                {
                    "name": "app",
                    "image": "web:3",
                    "imageID": "",
                    "ready": False,
                    "restartCount": 5,
                    "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                }
            ],
        )
    )
    assert (crashing.reason, crashing.restarts, crashing.ready) == ("CrashLoopBackOff", 5, False)


def test_index_by_group_follows_updates_moves_and_deletes() -> None:
    index = PodIndex([slim(_pod("a")), slim(_pod("b")), slim(_pod("c", group="gray"))])
    assert [r.name for r in index.group(("shop", "web", "prod"))] == ["a", "b"]
    index.put(slim(_pod("b", group="gray")))  # relabelled: moves to the other group
    assert [r.name for r in index.group(("shop", "web", "prod"))] == ["a"]
    assert [r.name for r in index.group(("shop", "web", "gray"))] == ["b", "c"]
    index.remove("shop", "a")
    index.remove("shop", "missing")
    assert index.group(("shop", "web", "prod")) == []
    assert len(index) == 2


def test_a_record_costs_well_under_a_kibibyte() -> None:
    pods = [_pod(f"web-{i:05d}") for i in range(2000)]
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    index = PodIndex(slim(p) for p in pods)
    per_record = (tracemalloc.get_traced_memory()[0] - before) / len(index)
    tracemalloc.stop()
    assert per_record < 1024, f"{per_record:.0f} bytes per record"


def test_revision_moves_with_every_change_and_never_repeats() -> None:
    index = PodIndex([slim(_pod("a"))])
    seen = [index.revision]
    index.put(slim(_pod("b")))
    seen.append(index.revision)
    index.put(slim(_pod("b", ready=False)))
    seen.append(index.revision)
    index.remove("shop", "b")
    seen.append(index.revision)
    index.remove("shop", "unknown")  # no change, no new revision
    assert index.revision == seen[-1]
    fresh = PodIndex([slim(_pod("a"))])  # a relist's new index: a revision no earlier index had
    seen.append(fresh.revision)
    assert len(set(seen)) == len(seen)
    assert [p.name for p in fresh.all()] == ["a"]


def test_slim_keeps_the_container_port_named_metrics() -> None:
    assert slim(_pod("web-1")).metrics_port == 0
    raw = _pod_json("web-2")
    raw["spec"]["containers"][0]["ports"] = [
        {"name": "http", "containerPort": 8080, "protocol": "TCP"},
        {"name": "metrics", "containerPort": 9090, "protocol": "TCP"},
    ]
    pod = msgspec.json.decode(msgspec.json.encode(raw), type=wire.Pod)
    assert slim(pod).metrics_port == 9090
