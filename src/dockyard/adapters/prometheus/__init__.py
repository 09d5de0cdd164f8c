"""Prometheus through its HTTP API (``/api/v1/query``, ``query_range``, ``targets``, ``rules``): what
the metrics charts read. Dockyard never scrapes nor stores series itself.

Errors (each also the domain's failure of the same name, ``PrometheusError`` its ``MetricsFailure``)::

    PrometheusError            an answer Dockyard cannot use (a bad query: the message has Prometheus' own)
    └── PrometheusUnavailable  Prometheus cannot be reached, timed out, or answered 5xx
"""

from __future__ import annotations

from dockyard.adapters.prometheus.client import Prometheus
from dockyard.adapters.prometheus.errors import PrometheusError, PrometheusUnavailable

__all__ = ["Prometheus", "PrometheusError", "PrometheusUnavailable"]
