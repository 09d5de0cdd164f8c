"""The resource pool's garbage on the sandbox: reported, then removed on confirmation, owners untouched."""

from __future__ import annotations

import uuid
from typing import Any

from dockyard.adapters.kube.client import KubeCluster
from tests.integration.harness.client import Api
from tests.integration.harness.kube import exists as _exists
from tests.integration.harness.pools import private_pool
from tests.integration.harness.specs import WEB as V1
from tests.integration.harness.waiting import Not, eventually

MANAGED = {"app.kubernetes.io/managed-by": "dockyard"}


def _items(report: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    return {(i["kind"], i["namespace"], i["name"]) for c in report for i in c["leftovers"]}


async def test_gc_reports_and_removes_what_nothing_owns(api: Api, kube: KubeCluster) -> None:
    await api.act("deploy", {"spec": {**V1, "instances": 1}})
    orphan = {"dockyard.io/system": api.system, "dockyard.io/app": "web", "dockyard.io/group": "gone", **MANAGED}
    await kube.apply(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "web-gone-v1", "namespace": api.system, "labels": orphan},
            "data": {},
        }
    )
    ghost = f"ghost-{uuid.uuid4().hex[:6]}"
    labels = {"dockyard.io/system": ghost, **MANAGED}
    await kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ghost, "labels": labels}})
    async with private_pool(kube, count=1) as pool:
        (node,) = await kube.list("v1", "Node", labels={"dockyard.io/pool": pool.name})
        node["metadata"]["labels"]["dockyard.io/dedicated"] = "nobody.web"
        node["spec"]["taints"] = [{"key": "dockyard.io/dedicated", "value": "nobody.web", "effect": "NoSchedule"}]
        await kube.replace(node)
        name = node["metadata"]["name"]
        wanted = {("ConfigMap", api.system, "web-gone-v1"), ("Namespace", "", ghost), ("Node", "", name)}

        async def reported() -> list[dict[str, Any]] | Not:
            report: list[dict[str, Any]] = (await api.http.get("/api/v1/gc")).json()
            return report if wanted <= _items(report) else Not(report)

        report = await eventually(reported, "the leftovers in the report (the node cache sees the taint by watch)")
        assert ("Deployment", api.system, "web-prod") not in _items(report)

        refused = await api.http.post("/api/v1/gc", json={})
        assert refused.status_code == 422
        assert await _exists(kube, "v1", "ConfigMap", "web-gone-v1", api.system)

        done = await api.http.post("/api/v1/gc", json={"confirm": True})
        assert done.status_code == 200
        assert wanted <= _items(done.json())
        assert not await _exists(kube, "v1", "ConfigMap", "web-gone-v1", api.system)
        assert await _exists(kube, "apps/v1", "Deployment", "web-prod", api.system)
        node = await kube.get("v1", "Node", name)
        assert "dockyard.io/dedicated" not in node["metadata"]["labels"]
        assert not [t for t in node["spec"].get("taints") or [] if t["key"] == "dockyard.io/dedicated"]
        gone = await kube.get("v1", "Namespace", ghost) if await _exists(kube, "v1", "Namespace", ghost) else None
        assert gone is None or gone["status"]["phase"] == "Terminating"
