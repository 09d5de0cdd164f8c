"""Where a sandbox keeps its files, which ports it uses, and the state that survives restarts."""

from __future__ import annotations

import json
import os
import re
import socket
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from dockyard.sandbox.errors import SandboxError

CLUSTER_LABELS = ("idc", "provider", "region")
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$")


@dataclass(frozen=True)
class Ports:
    """Loopback ports of the sandbox's components."""

    etcd: int = 2379
    etcd_peer: int = 2380
    apiserver: int = 6443
    controller_manager: int = 10257
    scheduler: int = 10259
    kwok: int = 10247
    metrics_server: int = 4443
    registry: int = 5000
    dns: int = 1053  # CoreDNS: the cluster's DNS and the global names (also on the node IP, for pods)
    edge: int = 8480  # the edge load balancer's HTTP listener (HAProxy)
    edge_admin: int = 2019  # HAProxy's Prometheus exporter (/metrics); its runtime API is a unix socket
    prometheus: int = 9090
    alertmanager: int = 9093
    dns_ready: int = 8181  # CoreDNS's readiness (its health probe), loopback
    dns_metrics: int = 9153  # CoreDNS's Prometheus metrics, loopback
    logs: int = 9428  # the log store (VictoriaLogs), loopback

    def __post_init__(self) -> None:
        values = asdict(self)
        for name, port in values.items():
            if not 1 <= port <= 65535:
                raise SandboxError(f"--{name.replace('_', '-')}-port must be between 1 and 65535 (got {port})")
        taken: dict[int, str] = {}
        for name, port in values.items():
            if port in taken:
                raise SandboxError(f"port {port} is given to both {taken[port]} and {name}")
            taken[port] = name

    @classmethod
    def pick_free(cls) -> Ports:
        """Ports that are free on 127.0.0.1 right now (for tests and benchmarks running side by side)."""
        sockets = [socket.socket() for _ in fields(cls)]
        try:
            for sock in sockets:
                sock.bind(("127.0.0.1", 0))
            return cls(*(sock.getsockname()[1] for sock in sockets))
        finally:
            for sock in sockets:
                sock.close()

    def flags(self) -> list[str]:
        """This as ``dockyard sandbox up`` options: ``["--etcd-port", "2379", ...]``."""
        out = []
        for name, port in asdict(self).items():
            out += [f"--{name.replace('_', '-')}-port", str(port)]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Ports:
        known = {f.name for f in fields(cls)}
        return cls(**{k: int(v) for k, v in data.items() if k in known})


def default_dir() -> Path:
    """``$DOCKYARD_SANDBOX_DIR``, else ``~/.local/state/dockyard/sandbox``."""
    env = os.environ.get("DOCKYARD_SANDBOX_DIR")
    return Path(env) if env else Path.home() / ".local" / "state" / "dockyard" / "sandbox"


def sandboxes_dir() -> Path:
    """Where named sandboxes live: ``$DOCKYARD_SANDBOXES_DIR``, else ``~/.local/state/dockyard/sandboxes``."""
    env = os.environ.get("DOCKYARD_SANDBOXES_DIR")
    return Path(env) if env else Path.home() / ".local" / "state" / "dockyard" / "sandboxes"


def named_dir(name: str) -> Path:
    """The directory of the named sandbox ``name`` (a DNS label), under :func:`sandboxes_dir`."""
    if not _NAME.fullmatch(name):
        raise SandboxError(f"sandbox name {name!r} must be a DNS label (a-z, 0-9, '-', at most 40)")
    return sandboxes_dir() / name


def parse_labels(text: str) -> dict[str, str]:
    """``idc=a,provider=idc,region=north`` as a mapping; only the cluster label keys Dockyard knows."""
    labels: dict[str, str] = {}
    for item in (part.strip() for part in text.split(",") if part.strip()):
        key, sep, value = item.partition("=")
        if not sep or key not in CLUSTER_LABELS or not _NAME.fullmatch(value):
            raise SandboxError(
                f"--labels: {item!r} must be KEY=VALUE with KEY one of {', '.join(CLUSTER_LABELS)} "
                "and VALUE a DNS label"
            )
        labels[key] = value
    return labels


@dataclass(frozen=True)
class Layout:
    """The files of one sandbox under ``root``."""

    root: Path

    @property
    def pki(self) -> Path:
        return self.root / "pki"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def run(self) -> Path:
        return self.root / "run"

    @property
    def etcd_data(self) -> Path:
        return self.root / "etcd"

    @property
    def kubeconfig(self) -> Path:
        return self.root / "kubeconfig"

    @property
    def scheduler_config(self) -> Path:
        return self.root / "kube-scheduler.yaml"

    @property
    def kwok_config(self) -> Path:
        return self.root / "kwok.yaml"

    @property
    def registry_config(self) -> Path:
        return self.root / "registry.yaml"

    @property
    def registry_data(self) -> Path:
        return self.root / "registry"

    @property
    def buildah(self) -> Path:
        """buildah's storage (vfs) and run root for the base image: inside the sandbox, nothing shared."""
        return self.root / "buildah"

    @property
    def state_file(self) -> Path:
        return self.root / "sandbox.json"

    def log(self, component: str) -> Path:
        return self.logs / f"{component}.log"

    def pid_file(self, component: str) -> Path:
        return self.run / f"{component}.pid"

    def make_dirs(self) -> None:
        for d in (self.root, self.logs, self.run, self.etcd_data, self.registry_data):
            d.mkdir(parents=True, exist_ok=True, mode=0o700)

    def read_state(self) -> dict[str, Any] | None:
        try:
            data: dict[str, Any] = json.loads(self.state_file.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as e:
            raise SandboxError(f"sandbox state {self.state_file} is unreadable: {e}") from e
        return data

    def write_state(self, state: dict[str, Any]) -> None:
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2, sort_keys=True))
        tmp.replace(self.state_file)
