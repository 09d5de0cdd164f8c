"""The sandbox's real node: what a deploy costs there and what the node costs at idle, one run.

    .venv/bin/python -m bench.real_node --rounds 3

A fresh sandbox (4 KWOK nodes and 1 real node: kubelet + containerd + kube-proxy; needs root and the
Debian packages of scripts/setup, and no other sandbox running real nodes) and a fresh Dockyard server
in a temporary directory on free ports; the sandbox is registered as cluster ``local``. Then each
section of ``bench/realnode/`` (see its ``__init__``) that exists runs in turn and prints a Markdown
table for docs/benchmarks.md. Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import os
import platform
import shutil
import sys
import tempfile
from pathlib import Path

from bench.deploy_throughput import DockyardServer, load, stop_on_sigterm
from bench.realnode import SECTIONS, Context, web_image
from dockyard.sandbox import cluster
from dockyard.sandbox.binaries import ensure_binaries
from dockyard.sandbox.layout import Layout, Ports
from dockyard.sandbox.topology import default_topology


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sections", default=",".join(SECTIONS), help="which sections, in this order")
    args = parser.parse_args()
    stop_on_sigterm()
    kubectl = ensure_binaries().kubectl
    root = Path(tempfile.mkdtemp(prefix="dockyard-bench-"))
    layout = Layout(root / "sandbox")
    ports = Ports.pick_free()
    (root / "server").mkdir()
    server = DockyardServer(root / "server")
    out: list[str] = []
    try:
        up = cluster.up(layout, ports=ports, topology=default_topology(4), real_nodes=1)
        node = up.real_nodes[0]
        server.start()
        server.register(layout.kubeconfig)
        ctx = Context(
            layout, ports, server, kubectl, node, node.rsplit("-", 1)[0], web_image(layout, ports), args.rounds
        )
        for name in args.sections.split(","):
            try:
                section = importlib.import_module(f"bench.realnode.{name}")
            except ModuleNotFoundError:
                print(f"(no section {name})", file=sys.stderr)
                continue
            print(f"section {name} (load {load()})", file=sys.stderr, flush=True)
            out.append(f"### {name}\n\n{section.run(ctx)}\n")
    finally:
        server.stop()
        cluster.down(layout)
        shutil.rmtree(root, ignore_errors=True)
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "?",
    )
    now = dt.datetime.now(dt.UTC)
    print(
        f"{now:%Y-%m-%d %H:%M} UTC; {platform.node()}: {os.cpu_count()} CPU ({cpu}), Python {platform.python_version()}"
    )
    print("\n".join(out))


if __name__ == "__main__":
    main()
