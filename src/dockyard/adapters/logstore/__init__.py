"""VictoriaLogs through its HTTP API (``/insert/jsonline``, ``/select/logsql/query``,
``/internal/force_flush``): where the shipper stores instances' lines and the search reads them.

Errors (each also the domain's failure of the same name, ``LogStoreError`` its ``LogStoreFailure``)::

    LogStoreError            an answer Dockyard cannot use (a refused query or write: the message has the store's own)
    └── LogStoreUnavailable  the store cannot be reached, timed out, or answered 5xx
"""

from __future__ import annotations

from dockyard.adapters.logstore.client import VictoriaLogs
from dockyard.adapters.logstore.errors import LogStoreError, LogStoreUnavailable

__all__ = ["LogStoreError", "LogStoreUnavailable", "VictoriaLogs"]
