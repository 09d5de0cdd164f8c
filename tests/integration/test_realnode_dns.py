"""A pod on the sandbox's real node asks the cluster DNS (its resolv.conf names 10.96.0.10, the
kube-dns Service, which kube-proxy sends to CoreDNS on the host's node IP): its group's Service name
resolves to the ClusterIP and the group's global name to its ready instances' IPs."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

from dockyard.adapters.kube.client import KubeCluster
from dockyard.sandbox import dns as sandbox_dns
from dockyard.sandbox.binaries import cached_binaries
from tests.integration.harness import kube as live
from tests.integration.harness.client import Api, create_group, register_cluster
from tests.integration.harness.realnodes import RealNodes, real_spec
from tests.integration.harness.resolving import answered
from tests.integration.harness.sandboxes import Sandbox
from tests.integration.harness.servers import in_process, settings
from tests.integration.harness.tokens import ADMIN
from tests.integration.harness.waiting import Not, eventually


def _nslookup(nodes: RealNodes, namespace: str, pod: str, name: str) -> subprocess.CompletedProcess[str]:
    found = cached_binaries()
    assert found is not None
    argv = [str(found.kubectl), f"--kubeconfig={nodes.sandbox.kubeconfig}", "-n", namespace, "exec", pod, "--"]
    return subprocess.run([*argv, "nslookup", name], capture_output=True, text=True, timeout=60, check=False)


async def test_a_pod_on_the_real_node_resolves_its_service_and_its_global_name(
    real_nodes: RealNodes, sandbox: Sandbox, database_url: str, kube: KubeCluster, tmp_path: Path
) -> None:
    system = f"rdns-{uuid.uuid4().hex[:8]}"
    config = settings(database_url, tmp_path, dns_records_dir=sandbox_dns.records_dir(sandbox.layout))
    async with in_process(config, headers=ADMIN) as server:
        try:
            await register_cluster(server.http, sandbox, labels={"idc": "local"})
            await create_group(server.http, system, environment="test")
            api = Api(server.http, server.platform, system)
            await api.act("deploy", {"spec": real_spec(real_nodes, "web v1")}, timeout=300)
            pods = [p for p in await live.live_pods(kube, system) if live.condition(p)]
            assert len(pods) == 3
            assert {p["spec"]["nodeName"] for p in pods} <= set(real_nodes.names)
            ips = sorted(p["status"]["podIP"] for p in pods)
            name = f"prod.web.{system}.dockyard.internal"

            async def published() -> list[str] | Not:
                got = sorted(await answered(sandbox.ports.dns, name))
                return got if got == ips else Not(got)

            await eventually(published, f"{name} → the 3 instances", timeout=30)
            service = await kube.get("v1", "Service", "web-prod", namespace=system)
            cluster_ip = service["spec"]["clusterIP"]
            pod = pods[0]["metadata"]["name"]

            # The trailing dot: the names as given, not through the pod's search list.
            asked = _nslookup(real_nodes, system, pod, f"web-prod.{system}.svc.cluster.local.")
            assert asked.returncode == 0, asked.stdout + asked.stderr
            assert cluster_ip in asked.stdout, asked.stdout
            asked = _nslookup(real_nodes, system, pod, f"{name}.")
            assert asked.returncode == 0, asked.stdout + asked.stderr
            assert all(ip in asked.stdout for ip in ips), asked.stdout
            assert "10.96.0.10" in asked.stdout  # the server it asked: the cluster DNS Service
        finally:
            await kube.delete("v1", "Namespace", system)
