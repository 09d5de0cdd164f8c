"""Sections of ``bench/real_node.py``: each module here has ``run(ctx: Context) -> str`` (Markdown for
docs/benchmarks.md) and is called, in :data:`SECTIONS` order, when it exists. Other sections (DNS, the
edge load balancer) add a module and a name in :data:`SECTIONS`; a missing module is skipped."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.deploy_throughput import DockyardServer
from dockyard.sandbox.base_image import BUILDAH, base_image, registry_address, storage_flags
from dockyard.sandbox.layout import Layout, Ports

SECTIONS = ("deploy", "idle", "dns", "edge")
WEB_CONTAINERFILE = 'FROM {base}\nCMD ["httpd", "-f", "-p", "8080", "-h", "/etc/dockyard/config"]\n'


@dataclass(frozen=True)
class Context:
    """What every section gets: the sandbox (with its real node), the Dockyard server registered on it
    as cluster ``local``, kubectl, the real node and its pool, a web image, the round count."""

    layout: Layout
    ports: Ports
    server: DockyardServer
    kubectl: Path
    node: str
    pool: str
    web_image: str
    rounds: int


def web_image(layout: Layout, ports: Ports) -> str:
    """busybox httpd serving the version's config files on 8080, built FROM the base image and pushed."""
    ref = f"{registry_address(ports)}/dockyard/httpd:bench"
    context = layout.root / "bench-web"
    context.mkdir(parents=True, exist_ok=True)
    (context / "Containerfile").write_text(WEB_CONTAINERFILE.format(base=base_image(ports)))
    flags = storage_flags(layout.buildah)
    for argv in (
        [BUILDAH, *flags, "bud", "--isolation", "chroot", "--layers=false", "--tls-verify=false", "-t", ref, "."],
        [BUILDAH, *flags, "push", "--tls-verify=false", ref, f"docker://{ref}"],
    ):
        subprocess.run(argv, cwd=context, capture_output=True, timeout=300, check=True)
    return ref


def web_spec(ctx: Context, instances: int, text: str) -> dict[str, Any]:
    """A version in the real pool: httpd, a real readiness probe, a short grace period."""
    return {
        "image": ctx.web_image,
        "flavor": "tiny",
        "instances": instances,
        "ports": [{"name": "http", "port": 8080}],
        "config_files": {"index.html": f"{text}\n"},
        "readiness": {"port": 8080, "path": "/index.html", "period_seconds": 1},
        "termination_grace_seconds": 1,
        "placement": {"pool": ctx.pool},
    }
