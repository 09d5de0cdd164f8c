import os
import stat
from pathlib import Path

import pytest

from dockyard.sandbox import binaries
from dockyard.sandbox.errors import BuildError, ToolchainError

UPSTREAM_GO_MOD = """module k8s.io/kubernetes

go 1.25.0

godebug default=go1.25

require (
\tk8s.io/api v0.0.0
)

replace (
\tk8s.io/api => ./staging/src/k8s.io/api
\tk8s.io/client-go => ./staging/src/k8s.io/client-go
)
"""


def test_wrapper_go_mod_replaces_every_staging_module_with_its_published_version() -> None:
    text = binaries.kubernetes_wrapper_go_mod("v1.35.4", UPSTREAM_GO_MOD)
    assert "require k8s.io/kubernetes v1.35.4" in text
    assert "replace k8s.io/api => k8s.io/api v0.35.4" in text
    assert "replace k8s.io/client-go => k8s.io/client-go v0.35.4" in text
    assert "godebug default=go1.25" in text
    assert "go 1.25.0" in text
    assert "\tk8s.io/kubernetes/cmd/kube-apiserver" in text


def test_staging_modules_are_read_from_the_upstream_go_mod() -> None:
    assert binaries.staging_modules(UPSTREAM_GO_MOD) == ["k8s.io/api", "k8s.io/client-go"]


def _fake_go(directory: Path, script: str, version: str = "go1.26.8") -> None:
    go = directory / "go"
    go.write_text(f'#!/bin/sh\nif [ "$1" = env ]; then echo {version}; exit 0; fi\n' + script)
    go.chmod(go.stat().st_mode | stat.S_IEXEC)


def test_no_go_toolchain_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKYARD_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.delenv("GOROOT", raising=False)
    with pytest.raises(ToolchainError, match="no Go toolchain found"):
        binaries.ensure_binaries()


def test_failed_build_carries_the_tail_of_its_log_and_leaves_no_cache_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    _fake_go(bindir, 'echo "compiling step $1"\necho "main.go:3: undefined: etcdmain.Main" >&2\nexit 2\n')
    monkeypatch.setenv("DOCKYARD_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}/usr/bin:/bin")
    with pytest.raises(BuildError) as info:
        binaries.ensure_binaries()
    assert "undefined: etcdmain.Main" in info.value.log_tail
    assert "exit 2" in str(info.value)
    leftovers = list((tmp_path / "cache" / "bin").iterdir())
    assert leftovers == []


def test_cached_units_are_not_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    for unit, version in [
        ("etcd", binaries.ETCD_VERSION),
        ("kwok", binaries.KWOK_VERSION),
        ("metrics-server", binaries.METRICS_SERVER_VERSION),
        ("kubernetes", binaries.KUBERNETES_VERSION),
        ("kubernetes-node", binaries.KUBERNETES_VERSION),
        ("coredns", binaries.COREDNS_VERSION),
        ("node-problem-detector", binaries.NODE_PROBLEM_DETECTOR_VERSION),
        ("victoria-logs", binaries.VICTORIALOGS_VERSION),
    ]:
        entry = cache / "bin" / f"{unit}-{version}"
        entry.mkdir(parents=True)
        (entry / ".complete").write_text(version)
    monkeypatch.setenv("DOCKYARD_CACHE", str(cache))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # a build would need go: it must not be asked for
    found = binaries.ensure_binaries()
    assert found.kube_apiserver == cache / "bin" / f"kubernetes-{binaries.KUBERNETES_VERSION}" / "kube-apiserver"
    assert found.kubelet == cache / "bin" / f"kubernetes-node-{binaries.KUBERNETES_VERSION}" / "kubelet"
    npd = cache / "bin" / f"node-problem-detector-{binaries.NODE_PROBLEM_DETECTOR_VERSION}" / "node-problem-detector"
    assert found.node_problem_detector == npd


@pytest.mark.parametrize(
    ("text", "parsed"),
    [("go1.26.8", (1, 26, 8)), ("go1.26", (1, 26, 0)), ("go1.27rc1", (1, 27, 0)), ("devel", None), ("", None)],
)
def test_go_versions_are_parsed(text: str, parsed: tuple[int, int, int] | None) -> None:
    assert binaries.parse_go_version(text) == parsed


def test_an_old_go_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    _fake_go(bindir, "exit 0\n", version="go1.22.1")
    monkeypatch.setenv("DOCKYARD_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}/usr/bin:/bin")
    with pytest.raises(ToolchainError, match=r"Go 1\.22\.1 at .* is too old: the pinned modules need Go 1\.26\.4"):
        binaries.ensure_binaries()
