"""VictoriaLogs in the sandbox: the log store Dockyard's shipper writes to and searches (docs/logs.md).

One process (component ``victoria-logs``) built from the Go module proxy (``sandbox/binaries.py``),
listening on 127.0.0.1 only (:attr:`Ports.logs`, 9428 by default), its data in ``victoria-logs/`` of
the sandbox directory. It keeps :data:`RETENTION` of lines: older days' partitions are dropped, so the
logs of an instance that is gone stay searchable that long. It has no authentication: only Dockyard
(on the same host) talks to it, and every user query goes through Dockyard's search.
"""

from __future__ import annotations

from pathlib import Path

from dockyard.sandbox.layout import Layout, Ports

RETENTION = "7d"  # the platform's log retention in the sandbox (VictoriaLogs' -retentionPeriod)


def data_dir(layout: Layout) -> Path:
    return layout.root / "victoria-logs"


def argv(layout: Layout, ports: Ports, binary: Path, *, retention: str = RETENTION) -> list[str]:
    """The command line (pure)."""
    return [
        str(binary),
        f"-httpListenAddr=127.0.0.1:{ports.logs}",
        f"-storageDataPath={data_dir(layout)}",
        f"-retentionPeriod={retention}",
        "-loggerLevel=WARN",
        "-http.disableResponseCompression",
    ]


def url(ports: Ports) -> str:
    """The store's base URL, for ``DOCKYARD_LOGSTORE_URL``."""
    return f"http://127.0.0.1:{ports.logs}"
