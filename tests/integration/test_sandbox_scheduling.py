"""The sandbox is a real cluster: the real scheduler places pods on KWOK nodes; metrics-server serves usage."""

from __future__ import annotations

import ipaddress
from typing import Any

from lightkube.resources.core_v1 import Pod

from dockyard.adapters.kube.client import KubeCluster
from tests.integration.harness.kube import condition
from tests.integration.harness.sandboxes import SANDBOX_NODES
from tests.integration.harness.waiting import eventually

APP = "spread"


def _deployment(namespace: str, replicas: int) -> dict[str, Any]:
    labels = {"app": APP}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": APP, "namespace": namespace},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {
                    "labels": labels,
                    "annotations": {"kwok.x-k8s.io/usage-cpu": "250m", "kwok.x-k8s.io/usage-memory": "300Mi"},
                },
                "spec": {
                    "affinity": {
                        "podAntiAffinity": {
                            "requiredDuringSchedulingIgnoredDuringExecution": [
                                {"labelSelector": {"matchLabels": labels}, "topologyKey": "kubernetes.io/hostname"}
                            ]
                        }
                    },
                    "containers": [
                        {
                            "name": "web",
                            "image": "registry.local/web:1",
                            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
                        }
                    ],
                },
            },
        },
    }


def _ready(pod: dict[str, Any]) -> bool:
    return pod["status"].get("phase") == "Running" and condition(pod, "Ready")


async def test_required_anti_affinity_spreads_replicas_over_distinct_nodes(kube: KubeCluster, namespace: str) -> None:
    await kube.apply(_deployment(namespace, SANDBOX_NODES))
    pods: list[dict[str, Any]] = []

    async def all_ready() -> bool:
        nonlocal pods
        pods = await kube.list("v1", "Pod", namespace=namespace, labels={"app": APP})
        return len(pods) == SANDBOX_NODES and all(_ready(p) for p in pods)

    await eventually(all_ready, f"{SANDBOX_NODES} pods Running and Ready", timeout=120)
    nodes = {p["spec"]["nodeName"] for p in pods}
    assert len(nodes) == SANDBOX_NODES
    pod_ips = {p["status"]["podIP"] for p in pods}
    assert len(pod_ips) == SANDBOX_NODES, "pod IPs must be unique across nodes"
    assert all(ipaddress.ip_address(ip) in ipaddress.ip_network("10.128.0.0/9") for ip in pod_ips)

    # One more replica than nodes: the real scheduler must refuse it and say why.
    await kube.apply(_deployment(namespace, SANDBOX_NODES + 1))
    reason: dict[str, str] = {}

    async def one_pending() -> bool:
        current = await kube.list("v1", "Pod", namespace=namespace, labels={"app": APP})
        pending = [p for p in current if not p["spec"].get("nodeName")]
        if len(current) != SANDBOX_NODES + 1 or len(pending) != 1:
            return False
        for scheduled in pending[0]["status"].get("conditions") or []:
            if scheduled["type"] == "PodScheduled" and scheduled["status"] == "False":
                reason.update(reason=scheduled.get("reason", ""), message=scheduled.get("message", ""))
                return True
        return False

    await eventually(one_pending, "the extra replica to be reported unschedulable", timeout=60)
    assert reason["reason"] == "Unschedulable"
    total = len(await kube.list("v1", "Node"))  # the sandbox's real node too, once a test has added it
    assert f"0/{total} nodes are available" in reason["message"]
    assert "anti-affinity" in reason["message"]

    # metrics-server scrapes KWOK's kubelet endpoints: usage for every running pod of the group.
    usage: dict[str, Any] = {}

    async def metrics_served() -> bool:
        nonlocal usage
        body = await kube.get_json(f"/apis/metrics.k8s.io/v1beta1/namespaces/{namespace}/pods")
        usage = {item["metadata"]["name"]: item for item in body["items"]}
        return len(usage) >= SANDBOX_NODES

    await eventually(metrics_served, "metrics.k8s.io usage for the running pods", timeout=120)
    some = next(iter(usage.values()))
    assert some["containers"][0]["name"] == "web"
    assert some["containers"][0]["usage"]["memory"] in {"300Mi", "307200Ki"}
    fake = {n["metadata"]["name"] for n in await kube.list("v1", "Node", labels={"dockyard.io/sandbox-node": "true"})}

    async def nodes_served() -> bool:
        # A KWOK restart (an earlier test) resets its counters: metrics-server needs two scrapes again.
        body = await kube.get_json("/apis/metrics.k8s.io/v1beta1/nodes")
        return fake <= {item["metadata"]["name"] for item in body["items"]}

    await eventually(nodes_served, "metrics.k8s.io usage for every fake node", timeout=120)
    assert len(fake) == SANDBOX_NODES


async def test_a_pod_marked_not_ready_by_the_node_controller_is_ready_again(kube: KubeCluster, namespace: str) -> None:
    """After a control-plane outage the node lifecycle controller marks pods not ready; a kubelet would
    report them Ready again, and so does the sandbox (its pod-ready-again stage)."""
    await kube.apply(_deployment(namespace, 1))
    pods: list[dict[str, Any]] = []

    async def ready() -> bool:
        nonlocal pods
        pods = await kube.list("v1", "Pod", namespace=namespace, labels={"app": APP})
        return len(pods) == 1 and _ready(pods[0])

    await eventually(ready, "the pod Running and Ready", timeout=60)
    name = pods[0]["metadata"]["name"]
    # What MarkPodsNotReady writes: the Ready condition False, by a strategic merge on the status.
    not_ready = {"status": {"conditions": [{"type": "Ready", "status": "False", "reason": "NodeNotReady"}]}}
    await kube.client.patch(Pod.Status, name, not_ready, namespace=namespace)
    await eventually(ready, "the pod Ready again", timeout=30)
