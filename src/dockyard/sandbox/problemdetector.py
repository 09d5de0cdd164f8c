"""node-problem-detector (NPD) beside each real node: the kernel-log rules Dockyard's inspection and
remediation read as node conditions.

Contract:

- One NPD process per real node (component ``node-problem-detector-<k>``), started after its kubelet
  and stopped by pid like every component. Its ``filelog`` system-log monitor reads
  ``realnodes/<k>/kern.log`` (a file of the sandbox, not the host's ``/var/log/kern.log``: tests append
  kernel lines to it) with :func:`kernel_monitor` as its rules, and its Kubernetes exporter writes the
  node's conditions and Events to the sandbox's apiserver with the sandbox's kubeconfig.
- The rules are NPD's own ``kernel-monitor.json`` ones (temporary rules → an Event; permanent ones →
  a node condition ``True``) plus one of Dockyard's: an ``EXT4-fs error`` line also sets the
  condition ``Ext4Error`` (upstream makes it an Event only), so that a corrupt filesystem takes the
  node out of service like a read-only remount does.
- NPD never clears a permanent condition by itself: it starts with every condition ``False`` (and
  says so to the apiserver), then reads the log from ``lookback`` ago. So a problem is cleared the way
  a repaired machine clears it — the log rotated (:func:`rotate_log`) and NPD restarted.

:func:`kernel_monitor` and :func:`argv` are pure.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

NAME = "node-problem-detector"
LOG_NAME = "kern.log"
SOURCE = "kernel-monitor"
# The syslog prefix NPD's filelog plugin parses ("Dec  2 18:30:00 host kernel: [  12.345678] …").
TIMESTAMP_FORMAT = "Jan _2 15:04:05"

# (condition type, reason while False, message while False)
CONDITIONS = (
    ("KernelDeadlock", "KernelHasNoDeadlock", "kernel has no deadlock"),
    ("ReadonlyFilesystem", "FilesystemIsNotReadOnly", "Filesystem is not read-only"),
    ("XfsShutdown", "XfsHasNotShutDown", "XFS has not shut down"),
    ("Ext4Error", "NoExt4Error", "no EXT4-fs error"),
)
# (type, condition or "", reason, pattern): NPD's kernel-monitor.json rules and Dockyard's Ext4Error.
RULES = (
    ("temporary", "", "OOMKilling", r"Killed process \d+ (.+) total-vm:\d+kB, anon-rss:\d+kB, file-rss:\d+kB.*"),
    ("temporary", "", "TaskHung", r"task [\S ]+:\w+ blocked for more than \w+ seconds\."),
    ("temporary", "", "Ext4Error", r"EXT4-fs error .*"),
    ("temporary", "", "Ext4Warning", r"EXT4-fs warning .*"),
    ("temporary", "", "IOError", r"Buffer I/O error .*"),
    ("temporary", "", "MemoryReadError", r"CE memory read error .*"),
    ("permanent", "KernelDeadlock", "DockerHung", r"task docker:\w+ blocked for more than \w+ seconds\."),
    ("permanent", "ReadonlyFilesystem", "FilesystemIsReadOnly", r"Remounting filesystem read-only"),
    ("permanent", "XfsShutdown", "XfsHasShutdown", r"XFS .* Shutting down filesystem.?"),
    ("permanent", "Ext4Error", "Ext4HasErrors", r"EXT4-fs error .*"),
)


def node_dir(real_dir: Path, index: int) -> Path:
    """Where NPD of real node ``index`` keeps its configuration (``realnodes/<k>/npd``)."""
    return real_dir / str(index) / "npd"


def log_path(real_dir: Path, index: int) -> Path:
    """The kernel log NPD of real node ``index`` reads (``realnodes/<k>/kern.log``)."""
    return real_dir / str(index) / LOG_NAME


def config_path(real_dir: Path, index: int) -> Path:
    return node_dir(real_dir, index) / "kernel-monitor.json"


def kernel_monitor(log: Path) -> dict[str, Any]:
    """The ``filelog`` system-log monitor's configuration (NPD's rule format) reading ``log``."""
    return {
        "plugin": "filelog",
        "pluginConfig": {
            "timestamp": "^.{15}",
            "message": r"kernel: \[.*\] (.*)",
            "timestampFormat": TIMESTAMP_FORMAT,
        },
        "logPath": str(log),
        "lookback": "5m",
        "bufferSize": 10,
        "source": SOURCE,
        "conditions": [{"type": t, "reason": r, "message": m} for t, r, m in CONDITIONS],
        "rules": [
            {"type": kind, **({"condition": condition} if condition else {}), "reason": reason, "pattern": pattern}
            for kind, condition, reason, pattern in RULES
        ],
    }


def argv(binary: Path, *, node: str, config: Path, kubeconfig: Path, apiserver_port: int, port: int) -> list[str]:
    """NPD's command line: the node's name, its monitor, the sandbox's apiserver and kubeconfig, its
    health server on ``127.0.0.1:port`` and no Prometheus endpoint."""
    apiserver = f"https://127.0.0.1:{apiserver_port}?inClusterConfig=false&auth={kubeconfig}"
    return [
        str(binary),
        f"--hostname-override={node}",
        f"--config.system-log-monitor={config}",
        "--enable-k8s-exporter=true",
        f"--apiserver-override={apiserver}",
        "--address=127.0.0.1",
        f"--port={port}",
        "--prometheus-port=0",
        "--v=2",
    ]


def kernel_line(message: str, *, at: float | None = None, host: str = "node") -> str:
    """A kernel log line as syslog writes it (``Dec  2 18:30:00 node kernel: [  12.345678] message``),
    in local time, which is how NPD parses it."""
    when = time.localtime(time.time() if at is None else at)
    stamp = time.strftime("%b ", when) + f"{when.tm_mday:>2}" + time.strftime(" %H:%M:%S", when)
    uptime = time.monotonic()
    return f"{stamp} {host} kernel: [{uptime:12.6f}] {message}\n"


def rotate_log(log: Path) -> None:
    """Move the log aside (``kern.log.1``) and start an empty one, as logrotate would."""
    if log.exists():
        log.replace(log.with_name(log.name + ".1"))
    log.write_text("")
