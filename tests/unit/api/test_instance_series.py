"""The per-instance families of /metrics, written directly: what prometheus-client would write."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from dockyard.api import instance_series
from dockyard.domain.live import PlacedInstance
from dockyard.domain.metrics import INFO_SERIES
from tests.unit.api import instance_reference
from tests.unit.records import pod_record

PLACED = [
    PlacedInstance("local", "a", pod_record(name="web-prod-1")),
    PlacedInstance("b", "", pod_record(name="web-prod-2", ready=False, restarts=3, version="2")),
    PlacedInstance("b", "", pod_record(name="web-prod-3", deleting=True)),  # in the join table only
    # Label values a cluster name or an IDC label could carry: every escape of the text format.
    PlacedInstance('c"1\\x\ny', 'i"d\\c', pod_record(name="web-prod-4", restarts=12345678)),
]


def test_the_text_is_what_prometheus_client_writes_for_the_same_families() -> None:
    assert instance_series.render(PLACED) == instance_reference.render(PLACED).decode()


def test_each_instance_is_one_line_per_family_with_its_labels_escaped() -> None:
    families = {f.name: f for f in text_string_to_metric_families(instance_series.render(PLACED))}
    info = families[INFO_SERIES].samples
    assert [s.labels["pod"] for s in info] == ["web-prod-1", "web-prod-2", "web-prod-3", "web-prod-4"]
    assert info[3].labels["cluster"] == 'c"1\\x\ny'
    assert info[3].labels["idc"] == 'i"d\\c'
    assert info[1].labels == {
        "cluster": "b", "namespace": "shop", "pod": "web-prod-2", "idc": "",
        "system": "shop", "app": "web", "group": "prod", "version": "2",
    }  # fmt: skip
    ready = {s.labels["pod"]: s.value for s in families[instance_series.READY].samples}
    assert ready == {"web-prod-1": 1.0, "web-prod-2": 0.0, "web-prod-4": 1.0}  # not the one being deleted
    restarts = {s.labels["pod"]: s.value for s in families[instance_series.RESTARTS].samples}
    assert restarts == {"web-prod-1": 0.0, "web-prod-2": 3.0, "web-prod-4": 12345678.0}


def test_no_instance_still_declares_the_families() -> None:
    text = instance_series.render([])
    assert "# TYPE dockyard_instance_info gauge" in text
    assert "# TYPE dockyard_instance_restarts_total counter" in text
