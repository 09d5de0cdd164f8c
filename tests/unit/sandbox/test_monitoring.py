"""The sandbox's generated Prometheus configuration and KWOK's fake cAdvisor Metric."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from dockyard.domain import apm
from dockyard.sandbox import monitoring
from dockyard.sandbox.binaries import Binaries
from dockyard.sandbox.components import Component, components, write_configs
from dockyard.sandbox.errors import ComponentError
from dockyard.sandbox.layout import Layout, Ports
from dockyard.sandbox.pki import Pki
from tests.unit.domain.test_metrics import SIXTEEN

PROMTOOL = shutil.which("promtool")


def _layout(tmp_path: Path) -> Layout:
    layout = Layout(tmp_path / "sandbox")
    layout.make_dirs()
    (layout.pki).mkdir()
    for name in ("ca.crt", "admin.crt", "admin.key"):
        (layout.pki / name).write_text("x")
    layout.kubeconfig.write_text("apiVersion: v1\nkind: Config\n")
    return layout


def test_config_is_written_once_and_rewritten_only_when_it_changes(tmp_path: Path) -> None:
    layout = _layout(tmp_path)
    assert monitoring.write_config(layout, Ports()) is True
    assert monitoring.write_config(layout, Ports()) is False
    assert monitoring.write_config(layout, Ports(prometheus=19090)) is False  # its own port is on the command line
    assert monitoring.write_config(layout, Ports(kwok=11247)) is True
    assert monitoring.token_path(layout).stat().st_mode & 0o777 == 0o600
    assert json.loads(monitoring.targets_path(layout).read_text()) == []


def test_fake_nodes_of_a_big_sandbox_are_scraped_less_often(tmp_path: Path) -> None:
    layout = _layout(tmp_path)

    def kwok_job(nodes: int, name: str = "kwok-cadvisor") -> dict[str, object]:
        jobs = monitoring.config(layout, Ports(), nodes=nodes)["scrape_configs"]
        return next(j for j in jobs if j["job_name"] == name)

    assert "scrape_interval" not in kwok_job(20)  # the global 5 s
    assert "scrape_interval" not in kwok_job(monitoring.BIG_SANDBOX)
    big = kwok_job(1000)
    assert (big["scrape_interval"], big["scrape_timeout"]) == ("15s", "14s")
    # Dockyard's own /metrics has three series per instance: scraped as often as the instances' own.
    assert "scrape_interval" not in kwok_job(20, "dockyard")
    assert kwok_job(1000, "dockyard")["scrape_interval"] == "15s"
    # The roll-up of a big sandbox's instances is evaluated every 15 s, a small one's every 5 s.
    assert monitoring.config(layout, Ports(), nodes=20)["global"]["evaluation_interval"] == "5s"
    assert monitoring.config(layout, Ports(), nodes=1000)["global"]["evaluation_interval"] == "15s"
    assert monitoring.write_config(layout, Ports(), nodes=20) is True
    assert monitoring.write_config(layout, Ports(), nodes=1000) is True  # a bigger sandbox: rewritten


def test_kwok_and_metrics_server_of_a_big_sandbox_are_tuned_for_its_scrapes() -> None:
    def by_name(nodes: int) -> dict[str, Component]:
        every = components(Layout(Path("/sandbox")), Ports(), Binaries.unbuilt(), Pki(Path("/pki")), nodes=nodes)
        return {c.name: c for c in every}

    small, big = by_name(monitoring.BIG_SANDBOX), by_name(monitoring.BIG_SANDBOX + 1)
    assert small["kwok"].env is None  # the caller's environment: Go's defaults
    assert big["kwok"].env is not None
    assert big["kwok"].env["GOGC"] == "400"
    assert big["kwok"].env["GOMEMLIMIT"] == "3GiB"
    assert big["kwok"].env["PATH"] == os.environ["PATH"]  # the caller's environment is kept
    assert "--metric-resolution=15s" in small["metrics-server"].argv
    assert "--metric-resolution=60s" in big["metrics-server"].argv
    # Nothing else differs: the same components, the same other command lines.
    assert small.keys() == big.keys()
    assert all(small[n].argv == big[n].argv for n in small if n != "metrics-server")


@pytest.mark.skipif(PROMTOOL is None, reason="promtool is missing: install Debian's prometheus package")
def test_prometheus_accepts_the_generated_config(tmp_path: Path) -> None:
    layout = _layout(tmp_path)
    monitoring.write_config(layout, Ports())
    done = subprocess.run(
        [PROMTOOL or "", "check", "config", str(monitoring.config_path(layout))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "rollup.yml" in done.stdout  # Dockyard's rule files are loaded from the package


def test_scrape_jobs_label_every_kubelet_series_alike(tmp_path: Path) -> None:
    config = monitoring.config(_layout(tmp_path), Ports())
    jobs = {j["job_name"]: j for j in config["scrape_configs"]}
    assert set(jobs) == {"kwok-cadvisor", "kubelet-cadvisor", "kubelet-resource", "dockyard", "edge"}
    assert jobs["edge"]["static_configs"] == [{"targets": ["127.0.0.1:2019"]}]
    for name in ("kwok-cadvisor", "kubelet-cadvisor", "kubelet-resource"):
        relabels = jobs[name]["relabel_configs"]
        assert {"target_label": "job", "replacement": "kubelet"} in relabels
        assert {"target_label": "cluster", "replacement": "local"} in relabels
    assert jobs["dockyard"]["honor_labels"] is True
    assert jobs["dockyard"]["authorization"]["credentials_file"].endswith("scrape-token")
    assert jobs["kubelet-cadvisor"]["relabel_configs"][0]["replacement"] == "/api/v1/nodes/${1}/proxy/metrics/cadvisor"


def test_real_nodes_are_scraped_through_the_apiserver(tmp_path: Path) -> None:
    layout = _layout(tmp_path)
    monitoring.write_config(layout, Ports())
    assert json.loads(monitoring.nodes_path(layout).read_text()) == []
    monitoring.write_real_nodes(layout, Ports(), ["realnode-1"])
    assert json.loads(monitoring.nodes_path(layout).read_text()) == [
        {"targets": ["127.0.0.1:6443"], "labels": {"node": "realnode-1"}}
    ]


def test_register_dockyard_writes_the_target_and_the_token(tmp_path: Path) -> None:
    layout = _layout(tmp_path)
    monitoring.write_config(layout, Ports())
    monitoring.register_dockyard(layout, address="127.0.0.1:8080", token="dy_scrape")
    assert json.loads(monitoring.targets_path(layout).read_text()) == [{"targets": ["127.0.0.1:8080"], "labels": {}}]
    assert monitoring.token_path(layout).read_text() == "dy_scrape"
    assert monitoring.token_path(layout).stat().st_mode & 0o777 == 0o600
    monitoring.unregister_dockyard(layout)
    assert json.loads(monitoring.targets_path(layout).read_text()) == []
    assert monitoring.token_path(layout).read_text() == ""


def _apps(layout: Layout) -> list[dict[str, Any]]:
    jobs = yaml.safe_load(monitoring.config_path(layout).read_text())["scrape_configs"]
    return [j for j in jobs if j["job_name"] == "apps"]


def test_the_apps_job_reads_the_registered_dockyards_service_discovery(tmp_path: Path) -> None:
    layout = _layout(tmp_path)
    assert "apps" not in {j["job_name"] for j in monitoring.config(layout, Ports())["scrape_configs"]}
    job = monitoring.apps_job(layout, "127.0.0.1:8080")
    (sd,) = job["http_sd_configs"]
    assert sd["url"] == "http://127.0.0.1:8080/metrics/targets"
    assert sd["authorization"] == {"type": "Bearer", "credentials_file": str(monitoring.token_path(layout))}
    assert "authorization" not in job  # the instances' own /metrics never get Dockyard's token
    (keep,) = job["metric_relabel_configs"]
    assert (keep["source_labels"], keep["action"]) == (["__name__"], "keep")
    kept = re.compile(keep["regex"])
    for name in ("bucket", "count", "sum"):
        assert kept.fullmatch(f"{apm.HISTOGRAM}_{name}")
    for other in (apm.HISTOGRAM, "process_cpu_seconds_total", "go_goroutines", f"{apm.HISTOGRAM}_created"):
        assert not kept.fullmatch(other)

    # Registering a Dockyard (with a token) adds the job to the written configuration; another address
    # rewrites it; unregistering, or a registration without a token, drops it. Each change reloads.
    monitoring.write_config(layout, Ports())
    assert _apps(layout) == []
    reloads: list[Path] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(monitoring, "reload", lambda _layout, pid_file: reloads.append(pid_file) or True)
        monitoring.register_dockyard(layout, address="127.0.0.1:8080", token="dym_x")
        assert _apps(layout) == [job]
        monitoring.register_dockyard(layout, address="127.0.0.1:8080", token="dym_x")  # unchanged: no reload
        monitoring.register_dockyard(layout, address="127.0.0.1:9999", token="dym_x")
        assert _apps(layout)[0]["http_sd_configs"][0]["url"] == "http://127.0.0.1:9999/metrics/targets"
        # ``sandbox up`` writes the same configuration while that Dockyard is registered: no change.
        assert monitoring.write_config(layout, Ports()) is False
        monitoring.unregister_dockyard(layout)
        assert _apps(layout) == []
        monitoring.register_dockyard(layout, address="127.0.0.1:1", token="")
        assert _apps(layout) == []
    assert reloads == [layout.pid_file("prometheus")] * 3


@pytest.mark.skipif(PROMTOOL is None, reason="promtool is missing: install Debian's prometheus package")
def test_prometheus_accepts_the_apps_job(tmp_path: Path) -> None:
    layout = _layout(tmp_path)
    monitoring.write_config(layout, Ports())
    monitoring.register_dockyard(layout, address="127.0.0.1:8080", token="dym_x")
    assert _apps(layout)
    done = subprocess.run(
        [PROMTOOL or "", "check", "config", str(monitoring.config_path(layout))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_fake_cadvisor_emits_the_per_instance_series_like_a_kubelet() -> None:
    metric = monitoring.kwok_cadvisor()
    by_name = {m["name"]: m for m in metric["spec"]["metrics"] if not m["name"].startswith(apm.HISTOGRAM)}
    assert set(by_name) == SIXTEEN | RESOURCE
    for name, m in by_name.items():
        if name not in SIXTEEN:
            continue
        labels = [label["name"] for label in m["labels"]]
        if name.startswith("container_network_"):
            assert (m["dimension"], m["kind"]) == ("pod", "counter")
            assert labels == ["container", "interface", "namespace", "pod"]
            assert m["value"].endswith(") * pod.SinceSecond()")  # monotonic: the rate is fixed at creation
        else:
            assert m["dimension"] == "container"
            assert labels == ["container", "namespace", "pod"]
    # A missing annotation falls back to a default instead of failing the whole metric.
    rss = by_name["container_memory_rss"]["value"]
    assert '"metrics.dockyard.io/memory-rss" in pod.metadata.annotations ?' in rss


RESOURCE = {
    "scrape_error",
    "container_start_time_seconds",
    "pod_cpu_usage_seconds_total",
    "pod_memory_working_set_bytes",
    "node_cpu_usage_seconds_total",
    "node_memory_working_set_bytes",
}


def test_one_metric_per_fake_node_serves_metrics_server_and_prometheus() -> None:
    """KWOK keeps one registry per node for all its Metrics: a second one (its own metrics-resource.yaml)
    would unregister this one's series on every scrape. So this one is at the path metrics-server asks,
    with every series metrics-server reads (and KWOK's expressions for them), and KWOK's is not loaded."""
    metric = monitoring.kwok_cadvisor()
    assert metric["spec"]["path"] == "/metrics/nodes/{nodeName}/metrics/resource"
    # A copy of KWOK v0.8.0's kustomize/metrics/resource/metrics-resource.yaml (sandbox/binaries.py).
    kwoks = yaml.safe_load((Path(__file__).parent / "kwok-metrics-resource.yaml").read_text())
    ours = {m["name"]: m for m in metric["spec"]["metrics"]}
    for theirs in kwoks["spec"]["metrics"]:
        mine = ours[theirs["name"]]
        assert (mine["kind"], mine["dimension"]) == (theirs["kind"], theirs["dimension"])
        assert [lb["name"] for lb in mine.get("labels", [])] == [lb["name"] for lb in theirs.get("labels", [])]
        if theirs["name"] not in ("container_memory_working_set_bytes", "container_cpu_usage_seconds_total"):
            assert mine["value"] == theirs["value"]  # the two cAdvisor ones above: same meaning, rss-aware
    configs_dir = Path("/kwok/configs")
    binaries = dataclasses.replace(
        Binaries.unbuilt(), kwok_configs=(configs_dir / "metrics-resource.yaml", configs_dir / "pod-ready.yaml")
    )
    every = components(Layout(Path("/sandbox")), Ports(), binaries, Pki(Path("/pki")))
    (kwok,) = [c for c in every if c.name == "kwok"]
    configs = [a for a in kwok.argv if a.startswith("--config=")]
    assert not any(a.endswith("/metrics-resource.yaml") for a in configs)
    assert any(a.endswith("/pod-ready.yaml") for a in configs)  # KWOK's other configurations still load
    kept = re.compile(monitoring.KWOK_KEPT)
    assert all(kept.fullmatch(name) for name in SIXTEEN)
    assert not any(kept.fullmatch(name) for name in RESOURCE - {"container_cpu_usage_seconds_total"})


def test_the_fake_instances_emit_the_request_histogram_of_real_ones_as_plain_counters() -> None:
    families = [m for m in monitoring.kwok_cadvisor()["spec"]["metrics"] if m["name"].startswith(apm.HISTOGRAM)]
    # KWOK's own histogram kind writes no labels: every series must be a labelled counter, unique per pod.
    assert {(m["kind"], m["dimension"]) for m in families} == {("counter", "pod")}
    series = [(m["name"], tuple((label["name"], label["value"]) for label in m["labels"])) for m in families]
    assert len(series) == len(set(series))
    buckets = [dict(labels) for name, labels in series if name == f"{apm.HISTOGRAM}_bucket"]
    counts = [dict(labels) for name, labels in series if name == f"{apm.HISTOGRAM}_count"]
    assert len(counts) == 5  # three routes, two of which answer 500 too
    assert len(buckets) == 5 * (len(apm.BUCKETS) + 1)
    for count in counts:
        assert list(count) == ["namespace", "pod", *apm.HISTOGRAM_LABELS]
        les = [b["le"] for b in buckets if {k: b[k] for k in count} == count]
        assert les == [f'"{le!r}"' for le in apm.BUCKETS] + ['"+Inf"']
    assert monitoring.KEPT_SERIES.endswith(f"{apm.HISTOGRAM}_(bucket|count|sum)")


@pytest.mark.parametrize(
    ("annotations", "p99"),
    [
        ({}, 0.1 + 0.15 * (0.99 * 10 - 9.82) / 0.18),  # 1.8 % of the requests slow in (0.1, 0.25]
        ({"metrics.dockyard.io/slow-seconds": "0.5"}, 0.25 + 0.25 * (0.99 * 10 - 9.82) / 0.18),
        ({"metrics.dockyard.io/slow-fraction": "0"}, 0.05 + 0.05 * (0.99 * 10 - 6.88 - 0.12) / 3.0),
    ],
)
def test_the_emulated_rates_give_the_p99_they_are_set_for(annotations: dict[str, str], p99: float) -> None:
    total: dict[float, float] = {}
    for buckets in monitoring.emulated_rates(annotations).values():
        for le, count in buckets:
            total[le] = total.get(le, 0.0) + count
    assert apm.quantile(0.99, sorted(total.items())) == pytest.approx(p99)


def test_a_named_sandbox_labels_its_series_with_its_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKYARD_SANDBOXES_DIR", str(tmp_path))
    assert monitoring.cluster_name(Layout(tmp_path / "idc-b")) == "idc-b"
    assert monitoring.cluster_name(Layout(tmp_path / "elsewhere" / "sandbox")) == "local"


def test_a_missing_prometheus_says_how_to_install_it(tmp_path: Path) -> None:
    with pytest.raises(ComponentError, match="install Debian's prometheus"):
        monitoring.check_installed(str(tmp_path / "prometheus"))


def test_writing_the_configs_says_whether_kwok_must_restart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    layout = Layout(tmp_path / "sandbox")
    layout.make_dirs()
    assert write_configs(layout, Ports()) is True  # a new sandbox
    assert write_configs(layout, Ports()) is False  # nothing changed: KWOK keeps running
    monkeypatch.setattr(monitoring, "ROUTES", monitoring.ROUTES[:1])
    assert write_configs(layout, Ports()) is True  # its Metric changed: read only at start
    assert write_configs(layout, Ports(), nodes=monitoring.BIG_SANDBOX) is False
    assert write_configs(layout, Ports(), nodes=monitoring.BIG_SANDBOX + 1) is True  # no histogram
    assert apm.HISTOGRAM not in layout.kwok_config.read_text()
