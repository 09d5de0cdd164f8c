"""KubeCluster's configuration errors are its own, and name no secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockyard.adapters.kube.client import IN_CLUSTER, KubeCluster
from dockyard.adapters.kube.errors import KubeError


def test_in_cluster_outside_a_pod_is_a_clear_error() -> None:
    with pytest.raises(KubeError, match="cannot load kubeconfig in-cluster"):
        KubeCluster(Path(IN_CLUSTER))


def test_a_missing_or_broken_kubeconfig_is_a_kube_error(tmp_path: Path) -> None:
    with pytest.raises(KubeError, match="cannot load kubeconfig"):
        KubeCluster(tmp_path / "nope.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "apiVersion: v1\nclusters: [{name: a, cluster: {server: x, certificate-authority-data: '!!'}}]\n"
        "users: [{name: u, user: {token: s3cret}}]\ncontexts: [{name: c, context: {cluster: a, user: u}}]\n"
        "current-context: c\n"
    )
    with pytest.raises(KubeError) as caught:
        KubeCluster(broken)
    assert "s3cret" not in str(caught.value)
