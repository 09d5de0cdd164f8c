"""KubeCluster's configuration errors are its own, and name no secret."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

from dockyard.adapters.kube.client import KubeCluster
from dockyard.adapters.kube.errors import KubeError
from dockyard.domain.clusters import IN_CLUSTER
from dockyard.sandbox.pki import ensure_pki, write_kubeconfig

BROKEN = (
    "apiVersion: v1\nclusters: [{name: a, cluster: {server: x, certificate-authority-data: '!!'}}]\n"
    "users: [{name: u, user: {token: s3cret}}]\ncontexts: [{name: c, context: {cluster: a, user: u}}]\n"
    "current-context: c\n"
)
GOOD = (
    "apiVersion: v1\nclusters: [{name: a, cluster: {server: 'https://127.0.0.1:1'}}]\n"
    "users: [{name: u, user: {token: s3cret}}]\ncontexts: [{name: c, context: {cluster: a, user: u}}]\n"
    "current-context: c\n"
)


def test_in_cluster_outside_a_pod_is_a_clear_error() -> None:
    with pytest.raises(KubeError, match="cannot load the in-cluster service account"):
        KubeCluster.from_kubeconfig(IN_CLUSTER)


def test_a_missing_or_broken_kubeconfig_file_is_a_kube_error(tmp_path: Path) -> None:
    with pytest.raises(KubeError, match="cannot load kubeconfig"):
        KubeCluster(tmp_path / "nope.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text(BROKEN)
    with pytest.raises(KubeError) as caught:
        KubeCluster(broken)
    assert "s3cret" not in str(caught.value)


@pytest.mark.parametrize(
    "content",
    [BROKEN, "s3cret: [unclosed", "just s3cret", GOOD.replace("current-context: c", "current-context: s3cret")],
)
def test_kubeconfig_content_errors_never_quote_it(content: str) -> None:
    with pytest.raises(KubeError) as caught:
        KubeCluster.from_kubeconfig(content)
    assert "s3cret" not in str(caught.value)
    assert caught.value.__cause__ is None or "s3cret" not in str(caught.value.__cause__)


async def test_embedded_certificates_and_keys_never_reach_the_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pki = ensure_pki(tmp_path / "pki")
    write_kubeconfig(tmp_path / "kubeconfig", pki=pki, server="https://127.0.0.1:1")
    content = (tmp_path / "kubeconfig").read_text()
    written: list[str] = []
    real = tempfile.NamedTemporaryFile

    def recording(*args: Any, **kwargs: Any) -> Any:
        f = real(*args, **kwargs)
        written.append(f.name)
        return f

    monkeypatch.setattr(tempfile, "NamedTemporaryFile", recording)
    cluster = KubeCluster.from_kubeconfig(content)
    try:
        assert written == []  # lightkube alone writes the CA, certificate and key to temporary files
        assert not (await cluster.health()).ok
    finally:
        await cluster.aclose()
    assert not any("dockyard-kubeconfig" in target for target in _open_files())  # the memfds are closed


def _open_files() -> list[str]:
    return [os.path.realpath(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd")]
