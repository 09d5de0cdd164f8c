"""Real containers on the sandbox's real node (kubelet + containerd + runc + CNI + kube-proxy), deployed
the normal way through Dockyard's API: readiness, HTTP by pod IP and ClusterIP, the instance list,
restarts, the runtime's reasons, logs and exec."""

from __future__ import annotations

import ipaddress
import subprocess
from typing import Any

from dockyard.adapters.kube.client import KubeCluster
from dockyard.sandbox import hostnet
from dockyard.sandbox.binaries import cached_binaries
from tests.integration.harness.client import Api
from tests.integration.harness.realnodes import RealNodes, http_get, real_spec
from tests.integration.harness.specs import TINY
from tests.integration.harness.waiting import Not, eventually


def _kubectl(nodes: RealNodes, *args: str) -> subprocess.CompletedProcess[str]:
    found = cached_binaries()
    assert found is not None
    argv = [str(found.kubectl), f"--kubeconfig={nodes.sandbox.kubeconfig}", *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)


async def _instances(api: Api) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = (await api.http.get(f"{api.group}/instances")).json()["items"]
    return items


async def test_a_group_in_the_real_pool_serves_http_restarts_and_shows_real_instances(
    api: Api, real_nodes: RealNodes, kube: KubeCluster
) -> None:
    await api.act("deploy", {"spec": real_spec(real_nodes, "web v1"), "deadline_seconds": 120})
    instances = await _instances(api)
    assert len(instances) == 3
    subnet = ipaddress.ip_network("10.64.0.0/24")
    for i in instances:
        assert (i["phase"], i["ready"], i["restarts"], i["node"]) == ("Running", True, 0, real_nodes.names[0])
        assert i["container_id"].startswith("containerd://")
        assert ipaddress.ip_address(i["pod_ip"]) in subnet
        assert i["host_ip"] == hostnet.node_ip()
        # From the host, straight to the pod.
        assert http_get(i["pod_ip"], 8080) == (200, "web v1\n")
    # The container ids are containerd's own.
    running = real_nodes.ctr("tasks", "ls")
    assert all(i["container_id"].removeprefix("containerd://") in running for i in instances)

    # Through the group's Service: kube-proxy's iptables rules on the host.
    service = await kube.get("v1", "Service", "web-prod", namespace=api.system)
    cluster_ip = service["spec"]["clusterIP"]
    assert ipaddress.ip_address(cluster_ip) in ipaddress.ip_network("10.96.0.0/16")

    async def through_service() -> tuple[int, str] | Not:
        try:
            got = http_get(cluster_ip, 8080, timeout=2)
        except OSError as e:
            return Not(e)
        return got if got[0] == 200 else Not(got)

    assert await eventually(through_service, "the ClusterIP answers", timeout=30) == (200, "web v1\n")

    # kubectl logs and exec reach the real kubelet (the apiserver dials its InternalIP).
    pod = instances[0]["name"]
    logs = _kubectl(real_nodes, "-n", api.system, "logs", pod)
    assert logs.returncode == 0, logs.stderr
    assert "response:200" in logs.stdout  # httpd -v: one line per request (the readiness probes)
    exec_ = _kubectl(real_nodes, "-n", api.system, "exec", pod, "--", "cat", "/etc/dockyard/config/index.html")
    assert (exec_.returncode, exec_.stdout) == (0, "web v1\n"), exec_.stderr

    # A container killed by hand: the kubelet restarts it and the instance shows it.
    victim = instances[1]
    real_nodes.ctr("tasks", "kill", "--signal", "SIGKILL", victim["container_id"].removeprefix("containerd://"))

    async def restarted() -> dict[str, Any] | Not:
        now = {i["name"]: i for i in await _instances(api)}
        got = now.get(victim["name"])
        return got if got and got["restarts"] == 1 and got["ready"] else Not(got)

    again = await eventually(restarted, "the killed instance restarted and Ready", timeout=60)
    assert again["container_id"] != victim["container_id"]
    assert http_get(again["pod_ip"], 8080) == (200, "web v1\n")


async def test_an_image_that_does_not_exist_fails_the_deploy_with_the_runtimes_reason(
    api: Api, real_nodes: RealNodes
) -> None:
    missing = f"{real_nodes.sandbox.registry}/dockyard/no-such-image:1"
    spec = real_spec(real_nodes, "never", image=missing, instances=1)
    response = await api.http.post(f"{api.group}/deploy", json={"spec": spec, "deadline_seconds": 20})
    assert response.status_code == 202, response.text
    failed = await api.wait(response.json())
    assert failed["status"] == "failed"
    reasons = {i["reason"] for i in await _instances(api)}
    assert reasons & {"ErrImagePull", "ImagePullBackOff"}, reasons
    assert "ErrImagePull" in failed["error"] or "ImagePullBackOff" in failed["error"], failed["error"]


async def test_groups_that_do_not_name_the_real_pool_stay_on_kwok_nodes(
    api: Api, real_nodes: RealNodes, kube: KubeCluster
) -> None:
    await api.act("deploy", {"spec": {**TINY, "instances": 4}})
    pods = await kube.list("v1", "Pod", namespace=api.system, labels={"dockyard.io/group": "prod"})
    nodes = {p["spec"]["nodeName"] for p in pods}
    assert nodes
    assert not nodes & set(real_nodes.names)
    labels = (await kube.get("v1", "Node", real_nodes.names[0]))["metadata"]["labels"]
    assert labels["dockyard.io/runtime"] == "real"
    assert labels["dockyard.io/pool"] == real_nodes.pool
    assert {"dockyard.io/idc", "dockyard.io/cpu-model", "topology.kubernetes.io/zone"} <= set(labels)
    # The placement preview counts the real node only for a group naming its pool.
    for placement, counted in (({"pool": real_nodes.pool}, True), ({"pool": "idc-a-intel"}, False)):
        spec = {**TINY, "image": real_nodes.web_image, "instances": 1, "placement": placement}
        preview = (await api.http.post(f"{api.group}/preview", json={"spec": spec})).json()
        assert preview["fits"] == 1, preview
        assert (real_nodes.names[0] in preview["clusters"][0]["nodes"]) is counted, preview
