"""Drift against the real apiserver: an untouched deploy has none; a change by hand is named with both values."""

from __future__ import annotations

import asyncio
from typing import Any

from lightkube.resources.apps_v1 import Deployment

from dockyard.adapters.kube.client import KubeCluster
from dockyard.adapters.kube.watch import DeploymentCache, running
from dockyard.domain.drift import drift
from dockyard.domain.render import GroupRef, render
from dockyard.domain.versions import VersionSpec, parse_spec
from tests.integration.harness.sandboxes import Sandbox
from tests.integration.harness.waiting import Not, eventually

FULL = parse_spec(
    {
        "image": "registry.local/shop/web:1",
        "flavor": "small",  # 1000m / 1024Mi, which the apiserver stores as 1 / 1Gi
        "instances": 2,
        "ports": [{"name": "http", "port": 8080}],
        "env": {"MODE": "prod", "EMPTY": ""},  # an empty value is left out by the apiserver
        "config_files": {"app.yaml": "greeting: hello\n"},
        "readiness": {"port": 8080, "path": "/healthz"},  # initialDelaySeconds 0, also left out
        "liveness": {"port": 8080},
        "pre_stop": ["/bin/sh", "-c", "sleep 2"],
    }
)
MINIMAL = parse_spec({"image": "registry.local/shop/worker:1", "flavor": "tiny", "instances": 0})  # empty lists


async def _deploy(kube: KubeCluster, ref: GroupRef, spec: VersionSpec) -> dict[str, Any]:
    """Apply the version's objects; the rendered Deployment's spec."""
    objects = render(ref, 1, spec)
    for manifest in objects:
        await kube.apply(manifest)
    deployment: dict[str, Any] = next(o for o in objects if o["kind"] == "Deployment")["spec"]
    return deployment


async def _observed(kube: KubeCluster, ref: GroupRef) -> dict[str, Any]:
    """The live Deployment once its controller has acted on its latest spec."""

    async def observed() -> dict[str, Any] | Not:
        live = await kube.get("apps/v1", "Deployment", ref.workload, namespace=ref.namespace)
        return live if live.get("status", {}).get("observedGeneration") == live["metadata"]["generation"] else Not(live)

    return await eventually(observed, f"Deployment {ref.workload} observed by its controller")


async def test_an_untouched_deploy_has_no_drift_and_a_change_by_hand_is_named(
    sandbox: Sandbox, kube: KubeCluster, namespace: str
) -> None:
    web, worker = GroupRef(namespace, "web", "prod"), GroupRef(namespace, "worker", "prod")
    expected = {ref: await _deploy(kube, ref, spec) for ref, spec in ((web, FULL), (worker, MINIMAL))}
    for ref, rendered in expected.items():
        live = await _observed(kube, ref)
        assert live["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"]  # defaults were filled in
        assert drift(rendered, live["spec"]) == {}, ref.workload
    served = (await _observed(kube, web))["spec"]["template"]["spec"]["containers"][0]
    assert served["resources"]["limits"] == {"cpu": "1", "memory": "1Gi"}  # canonical, not as rendered
    assert "initialDelaySeconds" not in served["readinessProbe"]

    async with KubeCluster(sandbox.kubeconfig) as watcher, running(DeploymentCache(watcher)) as cache:
        await asyncio.wait_for(cache.synced.wait(), 30)
        record = cache.get(namespace, web.workload)
        assert record is not None
        assert drift(expected[web], record.spec) == {}  # the cache's copy of the spec reads the same

        image = {
            "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "registry.local/shop/web:9"}]}}}
        }
        await kube.client.patch(Deployment, web.workload, image, namespace=namespace, field_manager="kubectl-set")
        await kube.client.patch(
            Deployment, web.workload, {"spec": {"replicas": 5}}, namespace=namespace, field_manager="kubectl-edit"
        )

        def drifted() -> bool:
            r = cache.get(namespace, web.workload)
            return r is not None and r.replicas == 5 and len(drift(expected[web], r.spec)) == 2

        await eventually(drifted, "the changes by hand in the cache")
        record = cache.get(namespace, web.workload)
        assert record is not None
        assert drift(expected[web], record.spec) == {
            "replicas": (2, 5),
            "template.spec.containers[app].image": ("registry.local/shop/web:1", "registry.local/shop/web:9"),
        }

    live = await _observed(kube, web)
    assert drift(expected[web], live["spec"])["template.spec.containers[app].image"] == (
        "registry.local/shop/web:1",
        "registry.local/shop/web:9",
    )
    await _deploy(kube, web, FULL)  # applying the version again (forcing ownership) undoes the drift
    assert drift(expected[web], (await _observed(kube, web))["spec"]) == {}
