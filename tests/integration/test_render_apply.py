"""Rendered versions are valid for the real apiserver, and applying an older one restores it exactly."""

from __future__ import annotations

from typing import Any

from dockyard.adapters.kube.client import KubeCluster
from dockyard.domain.render import GroupRef, render
from dockyard.domain.versions import parse_spec
from tests.integration.harness.kube import condition
from tests.integration.harness.waiting import Not, eventually

V1 = parse_spec(
    {
        "image": "registry.local/shop/web:1",
        "flavor": "tiny",
        "instances": 3,
        "ports": [{"name": "http", "port": 8080}],
        "env": {"MODE": "prod"},
        "config_files": {"app.yaml": "greeting: hello\n"},
        "readiness": {"port": 8080, "path": "/healthz"},
        "pre_stop": ["/bin/sh", "-c", "sleep 2"],
    }
)
V2 = V1.with_changes(
    image="registry.local/shop/web:2",
    env={"MODE": "prod", "DEBUG": "1"},
    config_files={"app.yaml": "greeting: bonjour\n", "conf.d/extra.ini": "[x]\n"},
)


async def _apply(kube: KubeCluster, ref: GroupRef, number: int, spec: Any) -> None:
    for manifest in render(ref, number, spec):
        await kube.apply(manifest)


async def _ready_pods(kube: KubeCluster, ref: GroupRef, version: int, count: int) -> list[dict[str, Any]]:

    async def all_ready() -> list[dict[str, Any]] | Not:
        pods = await kube.list("v1", "Pod", namespace=ref.namespace, labels=ref.selector())
        live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
        ready = [p for p in live if p["metadata"]["labels"].get("dockyard.io/version") == str(version) and condition(p)]
        return ready if len(ready) == count and len(live) == count else Not(f"{len(ready)} ready of {len(live)}")

    return await eventually(all_ready, f"{count} Ready pods of version {version}", timeout=90)


async def test_apply_v1_then_v2_then_v1_again_restores_v1_exactly(kube: KubeCluster, namespace: str) -> None:
    ref = GroupRef(system=namespace, app="web", group="prod", business_id="b-1001")
    await _apply(kube, ref, 1, V1)
    pods = await _ready_pods(kube, ref, 1, 3)
    assert {p["status"]["qosClass"] for p in pods} == {"Guaranteed"}
    template_v1 = (await kube.get("apps/v1", "Deployment", "web-prod", namespace=namespace))["spec"]["template"]

    await _apply(kube, ref, 2, V2)
    await _ready_pods(kube, ref, 2, 3)
    v2 = await kube.get("apps/v1", "Deployment", "web-prod", namespace=namespace)
    env = v2["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {e["name"]: e["value"] for e in env} == {"DEBUG": "1", "MODE": "prod"}

    await _apply(kube, ref, 1, V1)  # a rollback: the same objects as v1, under the same field manager
    await _ready_pods(kube, ref, 1, 3)
    back = await kube.get("apps/v1", "Deployment", "web-prod", namespace=namespace)
    assert back["spec"]["template"] == template_v1
    assert back["spec"]["template"]["spec"]["volumes"][0]["configMap"]["name"] == "web-prod-v1"
    both = await kube.list("v1", "ConfigMap", namespace=namespace, labels={"dockyard.io/group": "prod"})
    data = {c["metadata"]["name"]: c["data"] for c in both}
    assert data == {
        "web-prod-v1": {"file-0": "greeting: hello\n"},
        "web-prod-v2": {"file-0": "greeting: bonjour\n", "file-1": "[x]\n"},
    }
    service = await kube.get("v1", "Service", "web-prod", namespace=namespace)
    assert service["spec"]["selector"] == {"dockyard.io/app": "web", "dockyard.io/group": "prod"}
