"""A sandbox with a real node, taken down, leaves the host as it was: processes, mounts, links,
iptables rules (v4 and v6), sysctls, cgroups and the kubelet's fixed-path directories."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path
from typing import Any

from dockyard.adapters.kube.client import KubeCluster
from dockyard.sandbox import cluster, hostclean, realnode
from dockyard.sandbox.base_image import base_image
from dockyard.sandbox.layout import Layout, Ports
from dockyard.sandbox.topology import default_topology
from tests.integration.harness.realnodes import http_get
from tests.integration.harness.waiting import Not, eventually

RUNTIME_PROGRAMS = {"containerd", "containerd-shim-runc-v2", "runc", "kubelet", "kube-proxy"}


def _processes(marker: str) -> set[tuple[int, str]]:
    found = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        name = os.path.basename(argv[0].decode(errors="replace"))
        if name in RUNTIME_PROGRAMS or any(marker.encode() in a for a in argv):
            found.add((int(proc.name), name))
    return found


def _rules(saved: str) -> list[str]:
    """Tables, chains and rules without comments and counters; without ``nft`` (which deletes the
    tables iptables-nft made and left empty) an empty table with ACCEPT policies counts as none."""
    if shutil.which("nft") is None:
        return hostclean.normalized_rules(saved)
    return [line.split(" [")[0] for line in saved.splitlines() if line.strip() and not line.startswith("#")]


def _host(marker: str) -> dict[str, Any]:
    mounts = sorted(line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines())
    cgroups = {str(h): sorted(p.name for p in h.iterdir() if p.is_dir()) for h in hostclean.cgroup_hierarchies()}
    return {
        "processes": _processes(marker),
        "mounts": mounts,
        "links": sorted(os.listdir("/sys/class/net")),
        "iptables": _rules(hostclean.iptables_save("ipv4")),
        "ip6tables": _rules(hostclean.iptables_save("ipv6")),
        "nft tables": hostclean.nft_tables(),
        "sysctls": {name: hostclean.read_sysctl(name) for name in hostclean.SYSCTLS},
        "cgroups": cgroups,
        "kubelet dirs": [str(d) for d in hostclean.KUBELET_HOST_DIRS if d.exists()],
    }


def _free_the_host(run_dir: Path) -> None:
    """The session's main sandbox may hold this machine's real node: stop it (the next test asking for
    it starts it again); any other owner is a real conflict and fails the test."""
    owner = realnode.owner()
    if owner is None or not realnode.running_in(owner):
        return
    assert owner == (run_dir / "sandbox").absolute(), f"another sandbox runs real nodes here: {owner}"
    cluster.up(Layout(owner), real_nodes=0)


def _web(namespace: str, node: str, pool: str, image: str) -> list[dict[str, Any]]:
    labels = {"app": "web"}
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": namespace, "labels": labels},
        "spec": {
            "nodeSelector": {"kubernetes.io/hostname": node},
            "tolerations": [{"key": "dockyard.io/pool", "operator": "Equal", "value": pool, "effect": "NoSchedule"}],
            "terminationGracePeriodSeconds": 1,
            "containers": [
                {
                    "name": "httpd",
                    "image": image,
                    "command": [
                        "sh",
                        "-c",
                        "mkdir -p /www && echo host-test > /www/index.html && exec httpd -f -p 8080 -h /www",
                    ],
                    "readinessProbe": {"httpGet": {"path": "/index.html", "port": 8080}, "periodSeconds": 1},
                }
            ],
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": namespace},
        "spec": {"selector": labels, "ports": [{"port": 80, "targetPort": 8080}]},
    }
    return [pod, service]


def test_down_leaves_the_host_as_it_was(run_dir: Path) -> None:
    _free_the_host(run_dir)
    layout = Layout(run_dir / "sandbox-host")
    before = _host(str(layout.root))
    try:
        result = cluster.up(layout, ports=Ports.pick_free(), topology=default_topology(2), real_nodes=1)
        node = result.real_nodes[0]
        state = layout.read_state() or {}
        image = base_image(Ports.from_dict(state["ports"]))
        asyncio.run(_serve_once(layout, node, node.rsplit("-", 1)[0], image))
        during = _host(str(layout.root))
        assert during != before  # the real node did change the host (else this test proves nothing)
    finally:
        cluster.down(layout)
    after = _host(str(layout.root))
    assert after == before
    shutil.rmtree(layout.root, ignore_errors=True)


async def _serve_once(layout: Layout, node: str, pool: str, image: str) -> None:
    async with KubeCluster(layout.kubeconfig, timeout=30.0) as kube:
        await kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "host-test"}})
        for manifest in _web("host-test", node, pool, image):
            await kube.apply(manifest)

        async def serving() -> tuple[int, str] | Not:
            pod = await kube.get("v1", "Pod", "web", namespace="host-test")
            ip = (pod.get("status") or {}).get("podIP")
            if not ip:
                return Not(pod.get("status"))
            try:
                return http_get(ip, 8080, timeout=2)
            except OSError as e:
                return Not(e)

        assert await eventually(serving, "the pod serves", timeout=90) == (200, "host-test\n")
        service = await kube.get("v1", "Service", "web", namespace="host-test")

        async def through_service() -> tuple[int, str] | Not:
            try:
                return http_get(service["spec"]["clusterIP"], 80, timeout=2)
            except OSError as e:
                return Not(e)

        assert await eventually(through_service, "the ClusterIP answers", timeout=30) == (200, "host-test\n")
    # The pod and the Service are left in place on purpose: `down` must clean up after live pods.
