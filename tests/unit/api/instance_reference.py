"""The per-instance families of /metrics through prometheus-client's generic path: what /metrics
wrote before :mod:`dockyard.api.instance_series`, the reference its test and bench/metrics_export.py
compare it with."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from dockyard.api import instance_series
from dockyard.domain.live import PlacedInstance
from dockyard.domain.metrics import INFO_SERIES, LEVEL_LABELS


class _Generic:
    def __init__(self, placed: Sequence[PlacedInstance]) -> None:
        self.placed = placed

    def collect(self) -> Iterator[Metric]:
        info = GaugeMetricFamily(INFO_SERIES, instance_series.INFO_HELP, labels=LEVEL_LABELS["instance"])
        ready = GaugeMetricFamily(
            instance_series.READY, instance_series.READY_HELP, labels=instance_series.INSTANCE_LABELS
        )
        restarts = CounterMetricFamily(
            instance_series.RESTARTS, instance_series.RESTARTS_HELP, labels=instance_series.INSTANCE_LABELS
        )
        for placed in self.placed:
            pod = placed.pod
            info.add_metric(
                [placed.cluster, pod.namespace, pod.name, placed.idc, pod.namespace, pod.app, pod.group, pod.version],
                1,
            )
            if not pod.deleting:
                short = [placed.cluster, pod.namespace, pod.name, pod.namespace, pod.app, pod.group]
                ready.add_metric(short, 1.0 if pod.ready else 0.0)
                restarts.add_metric(short, float(pod.restarts))
        yield from (info, ready, restarts)


def registry(placed: Sequence[PlacedInstance]) -> CollectorRegistry:
    """A registry holding the three families of ``placed`` (render it with ``generate_latest``)."""
    out = CollectorRegistry(auto_describe=False)
    out.register(_Generic(placed))
    return out


def render(placed: Sequence[PlacedInstance]) -> bytes:
    """What prometheus-client writes for the three families of ``placed``."""
    return generate_latest(registry(placed))
