"""The main sandbox's real node (kubelet + containerd), added when a test first asks for it, and what
tests run there: a web image (busybox httpd serving the version's config files on 8080), HTTP from the
host without curl (busybox's wget segfaults here), containerd's ``ctr``."""

from __future__ import annotations

import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dockyard.sandbox import realnode
from dockyard.sandbox.base_image import BUILDAH, storage_flags
from tests.integration.harness.sandboxes import Sandbox

WEB_REPOSITORY = "dockyard/httpd"
# httpd serves the version's config files (mounted at /etc/dockyard/config): index.html names the version.
WEB_CONTAINERFILE = """\
FROM {base}
CMD ["httpd", "-f", "-v", "-p", "8080", "-h", "/etc/dockyard/config"]
"""


@dataclass(frozen=True)
class RealNodes:
    """The sandbox's real node(s): names, their pool, the host's node IP and a web image to run there."""

    sandbox: Sandbox
    names: tuple[str, ...]
    pool: str
    web_image: str

    @property
    def socket(self) -> Path:
        return realnode.NodeDirs(realnode.real_dir(self.sandbox.layout), 0).socket

    def ctr(self, *args: str) -> str:
        """``ctr`` on node 0's containerd, namespace k8s.io; its output (raises on failure)."""
        done = subprocess.run(
            [realnode.CTR, "-a", str(self.socket), "-n", realnode.K8S_NAMESPACE, *args],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return done.stdout


def web_image(sandbox: Sandbox) -> str:
    """Build (once per sandbox) and push ``dockyard/httpd:1`` FROM the base image."""
    ref = f"{sandbox.registry}/{WEB_REPOSITORY}:1"
    context = sandbox.layout.root / "web-image"
    if (context / ".pushed").exists():
        return ref
    context.mkdir(parents=True, exist_ok=True)
    (context / "Containerfile").write_text(WEB_CONTAINERFILE.format(base=sandbox.base_image))
    flags = storage_flags(sandbox.layout.buildah)
    for argv in (
        [BUILDAH, *flags, "bud", "--isolation", "chroot", "--layers=false", "--tls-verify=false", "-t", ref, "."],
        [BUILDAH, *flags, "push", "--tls-verify=false", ref, f"docker://{ref}"],
    ):
        subprocess.run(argv, cwd=context, capture_output=True, timeout=300, check=True)
    (context / ".pushed").write_text(ref)
    return ref


def http_get(host: str, port: int, path: str = "/index.html", timeout: float = 5.0) -> tuple[int, str]:
    """(status, body) of a plain HTTP/1.0 GET."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(f"GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    return int(head.split()[1]), body.decode(errors="replace")


def real_spec(nodes: RealNodes, version_text: str, **changes: Any) -> dict[str, Any]:
    """A version of three instances in the real pool: httpd answering ``version_text`` on 8080, a real
    readiness probe, a short grace period (httpd as PID 1 ignores SIGTERM)."""
    return {
        "image": nodes.web_image,
        "flavor": "tiny",
        "instances": 3,
        "ports": [{"name": "http", "port": 8080}],
        "config_files": {"index.html": f"{version_text}\n"},
        "readiness": {"port": 8080, "path": "/index.html", "period_seconds": 1},
        "termination_grace_seconds": 1,
        "placement": {"pool": nodes.pool},
        **changes,
    }
