"""The Prometheus adapter's errors (tree in the package's docstring)."""

from __future__ import annotations

from dockyard.domain import failures


class PrometheusError(failures.MetricsFailure):
    pass


class PrometheusUnavailable(PrometheusError, failures.MetricsUnavailable):
    pass
