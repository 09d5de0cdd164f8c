"""Failures of the systems Dockyard drives, as services catch them without knowing the adapter.

Each adapter's own error tree (``adapters/kube/errors.py``, ``adapters/db/errors.py``, the registry,
builder, git and secret box modules) subclasses these, so a service writes
``except ClusterUnavailable`` and never imports an adapter; the adapters keep their own names, their
docstring trees and ``raise … from e`` of the library's errors.

Failure
├── ClusterFailure            a Kubernetes cluster did not do what was asked
│   ├── ClusterUnavailable    its apiserver cannot be reached or answered 5xx
│   └── ClusterRefused        it answered 4xx (``status`` and ``reason`` kept)
│       ├── ClusterNotFound   404
│       └── ClusterConflict   409 (already exists, or a write lost an optimistic-lock race)
├── DatabaseFailure           the database did not do what was asked
│   ├── DatabaseUnavailable   cannot connect, the connection broke (also a domain ``Unavailable``)
│   └── DatabaseConflict      a write broke a uniqueness rule (also a domain ``Conflict``)
├── RegistryFailure           an image registry answered what Dockyard cannot use
│   ├── RegistryUnavailable   it cannot be reached, or answers 5xx
│   └── RegistryNotFound      the repository, tag or manifest does not exist
├── BuilderFailure            the image builder is missing or cannot run
│   └── BuildStepFailed       a step exited non-zero (``step`` names it, ``code`` is its exit code)
├── SourceFailure             a source could not be cloned or checked out
├── EdgeFailure               the edge load balancer did not take its routes
│   └── EdgeUnavailable       its runtime API cannot be reached (or does not answer in time)
├── MetricsFailure            the metrics store (Prometheus' HTTP API) did not answer as asked
│   └── MetricsUnavailable    it cannot be reached, times out or answers 5xx
├── LogStoreFailure           the log store (VictoriaLogs' HTTP API) refused a query or a write
│   └── LogStoreUnavailable   it cannot be reached, times out or answers 5xx
├── SealFailure               a key that is not a key, or a sealed value no configured key opens
├── DnsFailure                the DNS records could not be written
├── NotifyFailure             a notification could not be delivered (webhook receiver, SMTP server)
├── AlertmanagerFailure       Alertmanager cannot be reached or refused a request
│   └── AlertmanagerRefused   it answered 4xx (``status`` kept; the message is Alertmanager's)
└── IdentityProviderFailure   the OIDC identity provider's discovery document or keys cannot be had

Messages never hold a credential, a key, a token or a plaintext.
"""

from __future__ import annotations

from dockyard.domain.errors import Conflict, Unavailable


class Failure(Exception):
    """Base of every failure of an outside system."""


class ClusterFailure(Failure):
    pass


class ClusterUnavailable(ClusterFailure):
    pass


class ClusterRefused(ClusterFailure):
    def __init__(self, message: str, *, status: int, reason: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


class ClusterNotFound(ClusterRefused):
    pass


class ClusterConflict(ClusterRefused):
    pass


class DatabaseFailure(Failure):
    pass


class DatabaseUnavailable(DatabaseFailure, Unavailable):
    pass


class DatabaseConflict(DatabaseFailure, Conflict):
    pass


class RegistryFailure(Failure):
    pass


class RegistryUnavailable(RegistryFailure):
    pass


class RegistryNotFound(RegistryFailure):
    pass


class BuilderFailure(Failure):
    pass


class BuildStepFailed(BuilderFailure):
    def __init__(self, step: str, code: int) -> None:
        super().__init__(f"{step} failed (exit code {code})")
        self.step = step
        self.code = code


class SourceFailure(Failure):
    pass


class EdgeFailure(Failure):
    pass


class EdgeUnavailable(EdgeFailure):
    pass


class SealFailure(Failure):
    pass


class DnsFailure(Failure):
    pass


class MetricsFailure(Failure):
    pass


class MetricsUnavailable(MetricsFailure):
    pass


class LogStoreFailure(Failure):
    pass


class LogStoreUnavailable(LogStoreFailure):
    pass


class NotifyFailure(Failure):
    pass


class AlertmanagerFailure(Failure):
    pass


class AlertmanagerRefused(AlertmanagerFailure):
    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


class IdentityProviderFailure(Failure):
    """The identity provider's discovery document or signing keys cannot be fetched or read."""
