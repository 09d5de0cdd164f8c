"""The log store adapter's errors (tree in the package's docstring)."""

from __future__ import annotations

from dockyard.domain import failures


class LogStoreError(failures.LogStoreFailure):
    pass


class LogStoreUnavailable(LogStoreError, failures.LogStoreUnavailable):
    pass
