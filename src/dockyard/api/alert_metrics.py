"""The alert rules' inputs on Dockyard's ``/metrics`` (dockyard/monitoring/rules/alerts.yml joins them):

- ``dockyard_alert_threshold{system,app,group,rule}``: every group's resolved threshold of each
  enabled built-in rule (none: the rule is disabled there);
- ``dockyard_group_flavor{system,app,group,resource}``: the current version's flavor as the version
  recorded it, ``cpu`` in cores and ``memory`` in bytes (requests equal limits), what "a share of the
  flavor" is measured against;
- ``dockyard_group_instances{system,app,group,state}``: ``wanted`` (the database) and ``ready``
  (the watch caches); ``dockyard_group_releases_aborted_recent``: releases aborted in 30 minutes;
- per instance (``cluster,namespace,pod,system,app,group``, from the watch caches):
  ``dockyard_instance_ready`` (1 or 0) and ``dockyard_instance_restarts_total``, written by
  :mod:`dockyard.api.instance_series` (one line per instance, not through prometheus-client).

The database part is read before rendering (:func:`dockyard.services.alert_rules.inputs`): a
collector of prometheus-client cannot await.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from dockyard.domain.flavors import CATALOG
from dockyard.domain.live import PlacedInstance
from dockyard.services.alert_rules import Inputs

_GROUP = ["system", "app", "group"]


class AlertInputs(Collector):
    def __init__(self) -> None:
        self.placed: Sequence[PlacedInstance] | None = None  # the watch caches' snapshot of this scrape
        self.inputs: Inputs | None = None

    def collect(self) -> Iterator[Metric]:
        if self.placed is None or self.inputs is None:
            return
        threshold = GaugeMetricFamily(
            "dockyard_alert_threshold",
            "A built-in alert rule's threshold for a group, resolved (group > application > default); "
            "absent: the rule is disabled there.",
            labels=[*_GROUP, "rule"],
        )
        for e in self.inputs.thresholds:
            threshold.add_metric([e.system, e.app, e.group, e.rule], e.threshold)
        yield threshold
        flavor = GaugeMetricFamily(
            "dockyard_group_flavor",
            "The group's current flavor: cpu in cores, memory in bytes (requests equal limits).",
            labels=[*_GROUP, "resource"],
        )
        instances = GaugeMetricFamily(
            "dockyard_group_instances", "The group's instances: wanted, and ready.", labels=[*_GROUP, "state"]
        )
        aborted = GaugeMetricFamily(
            "dockyard_group_releases_aborted_recent",
            "The group's releases aborted in the last 30 minutes.",
            labels=_GROUP,
        )
        ready: dict[tuple[str, str, str], int] = {}
        for placed in self.placed:
            pod = placed.pod
            if pod.ready and not pod.deleting:
                key = (pod.namespace, pod.app, pod.group)
                ready[key] = ready.get(key, 0) + 1
        for g in self.inputs.groups:
            key = (g.system, g.app, g.group)
            builtin = CATALOG.get(g.flavor or "")
            size = g.size or ((builtin.cpu_millis, builtin.memory_mib) if builtin else None)
            if g.flavor and size is not None:
                flavor.add_metric([*key, "cpu"], size[0] / 1000)
                flavor.add_metric([*key, "memory"], size[1] * 1024 * 1024)
            instances.add_metric([*key, "wanted"], g.wanted)
            instances.add_metric([*key, "ready"], ready.get(key, 0))
            aborted.add_metric(list(key), g.aborted_recently)
        yield from (flavor, instances, aborted)
