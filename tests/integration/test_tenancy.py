"""Tenant isolation on the sandbox: a system's namespace denies traffic by default, enforces the
``restricted`` Pod Security Standard unless a group there needs ``baseline``, and runs pods under the
application's own ServiceAccount, which has no token and no rights."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from dockyard.adapters.kube.client import KubeCluster
from dockyard.adapters.kube.errors import KubeApiError
from dockyard.domain.model import GroupPath
from dockyard.services.deploys import run_operation, start_delete_group
from dockyard.services.platform import Platform
from tests.integration.harness import platforms
from tests.integration.harness.kube import live_pods as _pods
from tests.integration.harness.platforms import ALICE as ADMIN
from tests.integration.harness.sandboxes import Sandbox

SPEC: dict[str, Any] = {
    "image": "registry.local/shop/web:1",
    "flavor": "tiny",
    "instances": 2,
    "ports": [{"name": "http", "port": 8080}],
}
LEGACY = {**SPEC, "image": "registry.local/shop/legacy:1", "security": "baseline", "run_as_user": 0}
PSA = "pod-security.kubernetes.io"
PRIVILEGED_POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "by-hand"},
    "spec": {"containers": [{"name": "c", "image": "registry.local/x:1", "securityContext": {"privileged": True}}]},
}
ROOT_POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "root"},
    "spec": {"containers": [{"name": "c", "image": "registry.local/x:1"}]},  # meets baseline, not restricted
}


@pytest.fixture
async def system(sandbox: Sandbox, database_url: str, kube: KubeCluster) -> AsyncIterator[tuple[Platform, str]]:
    """A platform on a fresh database with cluster `local` = the sandbox, and a system shop-<id> with
    application web and groups prod, legacy and batch in that cluster."""
    name = f"shop-{uuid.uuid4().hex[:8]}"
    async with platforms.started(database_url, kubeconfig=sandbox.kubeconfig.read_text()) as platform:
        await platforms.create_groups(platform, name, "prod", "legacy", "batch", repository="registry.local/shop")
        yield platform, name
        await kube.delete("v1", "Namespace", name)


async def _deploy(platform: Platform, system: str, group: str, spec: dict[str, Any]) -> None:
    done = await platforms.deploy(platform, system, group, spec)
    assert (done.status, done.error) == ("succeeded", ""), group


async def _delete(platform: Platform, system: str, group: str) -> None:
    op = await start_delete_group(platform, ADMIN, group=GroupPath(system, "web", group))
    done = await run_operation(platform, op.id)
    assert (done.status, done.error) == ("succeeded", ""), group


async def _level(kube: KubeCluster, system: str) -> tuple[str, str]:
    """The namespace's enforced Pod Security level and the groups it records as needing baseline."""
    meta = (await kube.get("v1", "Namespace", system))["metadata"]
    return meta["labels"][f"{PSA}/enforce"], (meta.get("annotations") or {}).get("dockyard.io/baseline-groups", "")


async def _refused(kube: KubeCluster, system: str, pod: dict[str, Any]) -> str:
    with pytest.raises(KubeApiError) as info:
        await kube.create({**pod, "metadata": {**pod["metadata"], "namespace": system}})
    assert info.value.status == 403
    return str(info.value)


async def test_a_deployed_system_is_isolated_restricted_and_without_api_rights(
    system: tuple[Platform, str], kube: KubeCluster
) -> None:
    platform, name = system
    await _deploy(platform, name, "prod", SPEC)

    labels = (await kube.get("v1", "Namespace", name))["metadata"]["labels"]
    assert {k: v for k, v in labels.items() if k.startswith(PSA)} == {
        f"{PSA}/enforce": "restricted",
        f"{PSA}/enforce-version": "latest",
        f"{PSA}/warn": "restricted",
        f"{PSA}/warn-version": "latest",
        f"{PSA}/audit": "restricted",
        f"{PSA}/audit-version": "latest",
    }
    policies = {p["metadata"]["name"] for p in await kube.list("networking.k8s.io/v1", "NetworkPolicy", namespace=name)}
    assert policies == {"dockyard-default-deny", "dockyard-allow-dns", "dockyard-allow-same-system"}

    account = await kube.get("v1", "ServiceAccount", "app-web", namespace=name)
    assert account["automountServiceAccountToken"] is False
    assert await kube.list("rbac.authorization.k8s.io/v1", "RoleBinding", namespace=name) == []
    subjects = [
        s
        for binding in await kube.list("rbac.authorization.k8s.io/v1", "ClusterRoleBinding")
        for s in binding.get("subjects") or []
    ]
    assert not [s for s in subjects if s.get("namespace") == name or s.get("name") == f"system:serviceaccounts:{name}"]

    pods = await _pods(kube, name, "prod")
    assert len(pods) == 2  # admitted under restricted, and running
    for pod in pods:
        assert pod["spec"]["serviceAccountName"] == "app-web"
        assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
        assert not any(v.get("projected") for v in pod["spec"]["volumes"])  # no API token mounted
        assert any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"]["conditions"])

    why = await _refused(kube, name, PRIVILEGED_POD)
    assert 'violates PodSecurity "restricted:latest"' in why
    assert 'violates PodSecurity "restricted:latest"' in await _refused(kube, name, ROOT_POD)


async def test_the_namespace_is_as_loose_as_its_loosest_group_and_tightens_back(
    system: tuple[Platform, str], kube: KubeCluster
) -> None:
    platform, name = system
    await _deploy(platform, name, "prod", SPEC)
    assert await _level(kube, name) == ("restricted", "")

    # Two groups that need baseline, deployed at once: neither loses the other's record.
    await asyncio.gather(_deploy(platform, name, "legacy", LEGACY), _deploy(platform, name, "batch", LEGACY))
    assert await _level(kube, name) == ("baseline", "web-batch,web-legacy")
    legacy = await _pods(kube, name, "legacy")
    assert len(legacy) == 2
    assert {p["spec"]["securityContext"].get("runAsUser") for p in legacy} == {0}
    assert 'violates PodSecurity "baseline:latest"' in await _refused(kube, name, PRIVILEGED_POD)

    await _delete(platform, name, "batch")
    assert await _level(kube, name) == ("baseline", "web-legacy")
    await _deploy(platform, name, "legacy", {**SPEC, "image": "registry.local/shop/legacy:2"})  # now restricted
    assert await _level(kube, name) == ("restricted", "")
    assert 'violates PodSecurity "restricted:latest"' in await _refused(kube, name, ROOT_POD)

    await _deploy(platform, name, "legacy", LEGACY)
    assert await _level(kube, name) == ("baseline", "web-legacy")
    await _delete(platform, name, "legacy")
    assert await _level(kube, name) == ("restricted", "")
    # The application's ServiceAccount stays while its groups remain (prod still runs under it).
    assert (await kube.get("v1", "ServiceAccount", "app-web", namespace=name))["metadata"]["name"] == "app-web"
    assert len(await _pods(kube, name, "prod")) == 2
