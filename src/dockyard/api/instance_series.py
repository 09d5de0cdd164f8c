"""The per-instance families of Dockyard's ``/metrics``, written as Prometheus text directly.

``dockyard_instance_info`` (the join table, every instance the watch caches hold), and
``dockyard_instance_ready`` and ``dockyard_instance_restarts_total`` (the alert rules' inputs, instances
not being deleted): one line each per instance. At 30,000 instances prometheus-client's generic path
(a ``Sample`` per value, every label escaped one by one, in a collector run on the event loop) took
seconds per scrape (docs/benchmarks.md); here each instance's labels are escaped once and shared by its
three lines. The output is byte for byte what prometheus-client writes for the same families (tested).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client.utils import floatToGoString

from dockyard.domain.live import PlacedInstance
from dockyard.domain.metrics import INFO_SERIES

INFO_HELP = "One per instance: where it runs and what it is part of."
READY = "dockyard_instance_ready"
READY_HELP = "1 if the instance is ready."
RESTARTS = "dockyard_instance_restarts"  # a counter: written with the _total suffix
RESTARTS_HELP = "Container restarts of the instance (all its containers)."
INSTANCE_LABELS = ("cluster", "namespace", "pod", "system", "app", "group")  # of READY and RESTARTS

# The text format's escapes of a label value (and of HELP text: backslash and newline).
_VALUE = str.maketrans({"\\": r"\\", '"': r"\"", "\n": r"\n"})
_HELP = str.maketrans({"\\": r"\\", "\n": r"\n"})
# prometheus-client's number format (Go's: 3.0, 1.2345678e+07), typed here since the library's is not.
_number: Callable[[float], str] = floatToGoString


def _header(name: str, help_: str, kind: str) -> str:
    return f"# HELP {name} {help_.translate(_HELP)}\n# TYPE {name} {kind}\n"


def render(placed: Iterable[PlacedInstance]) -> str:
    """The three families' text (HELP, TYPE, one line per instance), in ``placed``'s order; the info
    series' labels are :data:`dockyard.domain.metrics.LEVEL_LABELS` ``["instance"]``, in that order."""
    info: list[str] = []
    ready: list[str] = []
    restarts: list[str] = []
    for instance in placed:
        pod = instance.pod
        cluster, idc = instance.cluster.translate(_VALUE), instance.idc.translate(_VALUE)
        namespace, name = pod.namespace.translate(_VALUE), pod.name.translate(_VALUE)
        app, group = pod.app.translate(_VALUE), pod.group.translate(_VALUE)
        # Labels in name order, as prometheus-client writes them.
        head = f'app="{app}",cluster="{cluster}",group="{group}"'
        tail = f'namespace="{namespace}",pod="{name}",system="{namespace}"'
        info.append(f'{INFO_SERIES}{{{head},idc="{idc}",{tail},version="{pod.version.translate(_VALUE)}"}} 1.0\n')
        if pod.deleting:
            continue
        ready.append(f"{READY}{{{head},{tail}}} {'1.0' if pod.ready else '0.0'}\n")
        restarts.append(f"{RESTARTS}_total{{{head},{tail}}} {_number(pod.restarts)}\n")
    return "".join(
        [
            _header(INFO_SERIES, INFO_HELP, "gauge"),
            *info,
            _header(READY, READY_HELP, "gauge"),
            *ready,
            _header(f"{RESTARTS}_total", RESTARTS_HELP, "counter"),
            *restarts,
        ]
    )
