"""CPU per pod watch event in the server: a full lightkube model then slimmed (before) against the
raw JSON decoded straight into the slim record (now), same process, same event, interleaved.

    .venv/bin/python -m bench.watch_decode --events 20000

The event is a Dockyard pod as a 1,000-node sandbox serves it (the Deployment's pod template as
rendered, KWOK's Running/Ready status, the managedFields of the controller, scheduler and KWOK). Each
pod event reaches two caches (the pod cache and the usage cache), so one event costs two decodes;
both sides do both. No sandbox: the numbers are the decoding alone, as on the event loop.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import msgspec
from lightkube.core import decoders
from lightkube.resources.core_v1 import Pod

from dockyard.adapters.kube import wire
from dockyard.adapters.kube.capacity import slim_usage
from dockyard.adapters.kube.watch import PodRecord, slim
from dockyard.domain.capacity import Usage, hostname_anti_affinity, requests
from dockyard.domain.render import GroupRef, deployment
from dockyard.domain.versions import parse_spec

REF = GroupRef(system="bench", app="web", group="g7", business_id="b-1001")
SPEC = parse_spec({"image": "registry.local/bench/web:1", "flavor": "tiny", "instances": 10})


def pod_event(index: int) -> bytes:
    """A MODIFIED event of a Running, Ready Dockyard pod with its managedFields, as the apiserver sends it."""
    template = deployment(REF, 1, SPEC)["spec"]["template"]
    name = f"web-g7-7d9f8c6b5-{index:05d}"
    stamp = "2026-11-23T10:00:00Z"
    spec = {
        **template["spec"],
        "nodeName": f"pool-a-{index % 1000:04d}",
        "priority": 0,
        "schedulerName": "default-scheduler",
        "dnsPolicy": "ClusterFirst",
        "restartPolicy": "Always",
        "enableServiceLinks": True,
        "preemptionPolicy": "PreemptLowerPriority",
        "tolerations": [
            {"key": f"node.kubernetes.io/{t}", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
            for t in ("not-ready", "unreachable")
        ],
    }
    managed: list[dict[str, Any]] = [
        {
            "manager": manager,
            "operation": "Update",
            "apiVersion": "v1",
            "time": stamp,
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:metadata": {"f:labels": {f"f:{k}": {} for k in template["metadata"]["labels"]}}}
            if manager == "kube-controller-manager"
            else {"f:status": {"f:conditions": {f'k:{{"type":"{c}"}}': {".": {}} for c in ("Ready", "Initialized")}}},
            **({"subresource": "status"} if manager != "kube-controller-manager" else {}),
        }
        for manager in ("kube-controller-manager", "kube-scheduler", "kwok")
    ]
    pod = {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {
            "name": name,
            "generateName": "web-g7-7d9f8c6b5-",
            "namespace": "bench",
            "uid": f"3f1c2a9e-0000-4000-8000-{index:012d}",
            "resourceVersion": str(100000 + index),
            "creationTimestamp": stamp,
            "labels": {**template["metadata"]["labels"], "pod-template-hash": "7d9f8c6b5"},
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": "web-g7-7d9f8c6b5",
                    "uid": "9e1c2a9e-0000-4000-8000-000000000001",
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
            "managedFields": managed,
        },
        "spec": spec,
        "status": {
            "phase": "Running",
            "conditions": [
                {"type": t, "status": "True", "lastProbeTime": None, "lastTransitionTime": stamp}
                for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")
            ],
            "hostIP": "10.0.3.7",
            "hostIPs": [{"ip": "10.0.3.7"}],
            "podIP": f"10.128.{index % 250}.{index % 200 + 2}",
            "podIPs": [{"ip": f"10.128.{index % 250}.{index % 200 + 2}"}],
            "startTime": stamp,
            "containerStatuses": [
                {
                    "name": "app",
                    "state": {"running": {"startedAt": stamp}},
                    "lastState": {},
                    "ready": True,
                    "restartCount": 0,
                    "image": "registry.local/bench/web:1",
                    "imageID": "",
                    "started": True,
                }
            ],
            "qosClass": "Guaranteed",
        },
    }
    return json.dumps({"type": "MODIFIED", "object": pod}, separators=(",", ":")).encode()


def model_slim(pod: Any) -> PodRecord:
    """The pod cache's ``slim`` before: the same record, read from a lightkube Pod."""
    meta, spec, status = pod.metadata, pod.spec, pod.status
    labels = meta.labels or {}
    statuses = (status.containerStatuses if status else None) or []
    conditions = (status.conditions if status else None) or []
    reason = ""
    for c in statuses:
        state = c.state
        if state and state.waiting and state.waiting.reason:
            reason = state.waiting.reason
        elif state and state.terminated and state.terminated.reason:
            reason = state.terminated.reason
    for cond in conditions:
        if cond.type == "PodScheduled" and cond.status == "False":
            reason = cond.message or cond.reason or "Unschedulable"
    return PodRecord(
        namespace=meta.namespace or "",
        name=meta.name or "",
        uid=meta.uid or "",
        app=labels.get("dockyard.io/app", ""),
        group=labels.get("dockyard.io/group", ""),
        version=labels.get("dockyard.io/version", ""),
        phase=(status.phase if status else None) or "Pending",
        ready=any(c.type == "Ready" and c.status == "True" for c in conditions),
        restarts=sum(c.restartCount or 0 for c in statuses),
        pod_ip=(status.podIP if status else None) or "",
        host_ip=(status.hostIP if status else None) or "",
        node=(spec.nodeName if spec else None) or "",
        created=meta.creationTimestamp.timestamp() if meta.creationTimestamp else 0.0,
        reason=reason,
        deleting=meta.deletionTimestamp is not None,
    )


def model_usage(pod: Any) -> Usage:
    """The usage cache's ``slim_usage`` before: the spec as plain data, then the requests."""
    meta, spec, status = pod.metadata, pod.spec, pod.status
    labels = meta.labels or {}
    plain = spec.to_dict() if spec else {}
    cpu, memory = requests(plain)
    anti = hostname_anti_affinity(plain)
    return Usage(
        namespace=sys.intern(meta.namespace or ""),
        name=meta.name or "",
        node=sys.intern((spec.nodeName if spec else None) or ""),
        phase=sys.intern((status.phase if status else None) or "Pending"),
        cpu_millis=cpu,
        memory=memory,
        priority=(spec.priority if spec else None) or 0,
        app=sys.intern(labels.get("dockyard.io/app", "")),
        group=sys.intern(labels.get("dockyard.io/group", "")),
        business=sys.intern(labels.get("dockyard.io/business-id", "")),
        anti=anti[-1] if anti else None,
        deleting=meta.deletionTimestamp is not None,
    )


def before(line: bytes) -> None:
    for read in (model_slim, model_usage):  # two caches, two decodes of the same event
        event = decoders.decode_watch_event(line)
        read(decoders.decode_object(event.object, Pod))


POD_EVENTS = msgspec.json.Decoder(wire.Event[wire.Pod])


def now(line: bytes) -> None:
    slim(POD_EVENTS.decode(line).object)
    slim_usage(POD_EVENTS.decode(line).object)


def pages(events: list[bytes], size: int = 500) -> list[bytes]:
    """The same pods as list pages of ``size``, as a first list (or a relist) reads them."""
    objects = [json.loads(line)["object"] for line in events]
    return [
        json.dumps(
            {"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "1"}, "items": chunk}
        ).encode()
        for chunk in (objects[i : i + size] for i in range(0, len(objects), size))
    ]


def list_before(page: bytes) -> None:
    for read in (model_slim, model_usage):
        _, _, items = decoders.decode_list(page, Pod)
        for pod in items:
            read(pod)


POD_PAGES = msgspec.json.Decoder(wire.Page[wire.Pod])


def list_now(page: bytes) -> None:
    for read in (slim, slim_usage):
        for pod in POD_PAGES.decode(page).items or ():
            read(pod)


def measure(fn: Callable[[bytes], None], events: list[bytes]) -> float:
    """Seconds of CPU for ``fn`` over every event."""
    gc.collect()
    start = time.process_time()
    for line in events:
        fn(line)
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    events = [pod_event(i) for i in range(args.events)]
    print(f"pod event: {len(events[0])} bytes; {args.events} events a round, {args.rounds} rounds, interleaved")
    samples: dict[str, list[float]] = {"before": [], "now": []}
    for _ in range(args.rounds):
        for label, fn in (("before", before), ("now", now)):
            samples[label].append(measure(fn, events) / args.events * 1000)  # CPU seconds per 1,000 events
    print()
    print("| decoding of one pod event (2 caches) | CPU per 1,000 events, median (min–max) of rounds |")
    print("|---|---|")
    for label, text in (("before", "lightkube model, then slimmed"), ("now", "raw JSON into the slim records")):
        ms = sorted(v * 1000 for v in samples[label])
        print(f"| {text} | {statistics.median(ms):.1f} ms ({ms[0]:.1f}–{ms[-1]:.1f}) |")
    ratio = statistics.median(samples["before"]) / statistics.median(samples["now"])
    print(f"\n×{ratio:.1f}")
    listed = pages(events)
    lists: dict[str, list[float]] = {"before": [], "now": []}
    for _ in range(args.rounds):
        for label, lister in (("before", list_before), ("now", list_now)):
            lists[label].append(measure(lister, listed))
    print()
    print(f"| first list of {args.events:,} pods, pages of 500 (2 caches) | CPU, median (min–max) of rounds |")
    print("|---|---|")
    for label, text in (("before", "lightkube models, then slimmed"), ("now", "raw JSON into the slim records")):
        secs = sorted(lists[label])
        print(f"| {text} | {statistics.median(secs):.2f} s ({secs[0]:.2f}–{secs[-1]:.2f}) |")
    print(f"\npython {sys.version.split()[0]}; load {os.getloadavg()[0]:.1f}; date {time.strftime('%Y-%m-%d %H:%M')}")


if __name__ == "__main__":
    main()
