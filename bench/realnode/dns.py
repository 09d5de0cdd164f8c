"""CoreDNS answers/s and latency for a global name and a cluster.local name (dnsperf, bounded, loopback).

    .venv/bin/python -m bench.realnode.dns            # on its own: a fresh 4-node KWOK sandbox
    (or as the ``dns`` section of bench/real_node.py: ``run(ctx)``)

A Dockyard server of its own (publishing the global names to the sandbox's CoreDNS records directory)
registers the sandbox as cluster ``local`` and deploys group ``prod`` of ``bench/web`` with
:data:`INSTANCES` KWOK instances; once ``prod.web.bench.dockyard.internal`` answers with all of them,
Debian's ``dnsperf`` queries CoreDNS on 127.0.0.1 for that name and for the group Service's
``<svc>.bench.svc.cluster.local``: each for :data:`SECONDS` s at :data:`LOW_QPS` (latencies from
``-v``: p50/p99) and at :data:`HIGH_QPS` (the answers/s CoreDNS keeps up with on this machine, dnsperf
sharing its CPUs). Prints a Markdown table for docs/benchmarks.md. Not a test: nothing here asserts.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bench.deploy_throughput import DockyardServer, stop_on_sigterm
from dockyard.sandbox import cluster
from dockyard.sandbox import dns as sandbox_dns
from dockyard.sandbox.binaries import COREDNS_VERSION
from dockyard.sandbox.layout import Layout, Ports
from dockyard.sandbox.topology import default_topology

SYSTEM, APP, GROUP = "bench", "web", "prod"
INSTANCES = 10
SECONDS = 10
LOW_QPS = 2000
HIGH_QPS = 20000
SPEC = {
    "image": "registry.local/bench/web:1",
    "flavor": "tiny",
    "instances": INSTANCES,
    "ports": [{"name": "http", "port": 8080}],
}


class HasSandbox(Protocol):
    """What this section needs of bench/real_node.py's context."""

    @property
    def layout(self) -> Layout: ...

    @property
    def ports(self) -> Ports: ...


@dataclass(frozen=True)
class Result:
    name: str
    qps_limit: int
    sent: int
    answered_per_second: float
    lost: int
    noerror_percent: float
    p50_ms: float
    p99_ms: float


def dnsperf(port: int, name: str, *, qps: int, seconds: int = SECONDS) -> Result:
    """One bounded dnsperf run against 127.0.0.1:``port`` asking ``name`` A."""
    with tempfile.NamedTemporaryFile("w", suffix=".queries") as queries:
        queries.write(f"{name} A\n")
        queries.flush()
        argv = ["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", queries.name]
        argv += ["-l", str(seconds), "-Q", str(qps), "-c", "4", "-t", "2", "-v"]
        out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 30, check=True).stdout
    latencies = sorted(float(line.split()[-1]) for line in out.splitlines() if line.startswith("> "))

    def number(label: str) -> float:
        found = re.search(rf"{label}:\s+([0-9.]+)", out)
        return float(found[1]) if found else 0.0

    noerror = re.search(r"NOERROR\s+\d+\s+\(([0-9.]+)%\)", out)
    return Result(
        name=name,
        qps_limit=qps,
        sent=int(number("Queries sent")),
        answered_per_second=number("Queries per second"),
        lost=int(number("Queries lost")),
        noerror_percent=float(noerror[1]) if noerror else 0.0,
        p50_ms=latencies[len(latencies) // 2] * 1000 if latencies else 0.0,
        p99_ms=latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000 if latencies else 0.0,
    )


def _publishing_server(layout: Layout, root: Path) -> DockyardServer:
    """A Dockyard server writing the global names to ``layout``'s CoreDNS, with the group deployed."""
    os.environ["DOCKYARD_DNS_RECORDS_DIR"] = str(sandbox_dns.records_dir(layout))
    try:
        server = DockyardServer(root)
        server.start()
    finally:
        del os.environ["DOCKYARD_DNS_RECORDS_DIR"]
    server.register(layout.kubeconfig)
    with server.client() as api:
        api.post("/systems", json={"name": SYSTEM}).raise_for_status()
        api.post(f"/systems/{SYSTEM}/apps", json={"name": APP, "repository": "registry.local/bench/web"})
        group = f"/systems/{SYSTEM}/apps/{APP}/groups/{GROUP}"
        api.post(
            f"/systems/{SYSTEM}/apps/{APP}/groups", json={"name": GROUP, "environment": "test", "cluster": "local"}
        )
        answer = api.post(f"{group}/deploy", json={"spec": SPEC})
        answer.raise_for_status()
        operation = answer.json()["id"]
        while api.get(f"/operations/{operation}").json()["status"] not in ("succeeded", "failed"):
            time.sleep(0.5)
    return server


def _wait_answers(port: int, name: str, count: int, timeout: float = 60.0) -> None:
    import dns.message
    import dns.query
    import dns.rdatatype

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = dns.query.udp(dns.message.make_query(name, dns.rdatatype.A), "127.0.0.1", port=port, timeout=2)
        if sum(len(rrset) for rrset in answer.answer) == count:
            return
        time.sleep(0.5)
    raise RuntimeError(f"{name} did not answer with {count} addresses in {timeout:.0f}s")


def run(ctx: HasSandbox) -> str:
    """Measure and return the Markdown (see the module's docstring)."""
    root = Path(tempfile.mkdtemp(prefix="dockyard-bench-dns-"))
    server = _publishing_server(ctx.layout, root)
    try:
        global_name = f"{GROUP}.{APP}.{SYSTEM}.dockyard.internal"
        _wait_answers(ctx.ports.dns, global_name, INSTANCES)
        service = f"{APP}-{GROUP}.{SYSTEM}.svc.cluster.local"  # the group's Service (domain/render.py)
        _wait_answers(ctx.ports.dns, service, 1)
        results = [dnsperf(ctx.ports.dns, n, qps=q) for n in (global_name, service) for q in (LOW_QPS, HIGH_QPS)]
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
    lines = [
        f"CoreDNS {COREDNS_VERSION} on 127.0.0.1 (hosts plugin for the global name with "
        f"{INSTANCES} addresses; kubernetes plugin for the Service); dnsperf -l {SECONDS} -c 4, one name each:",
        "",
        "| name | -Q (qps cap) | queries sent | answered/s | lost | NOERROR | p50 (ms) | p99 (ms) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| `{r.name}` | {r.qps_limit} | {r.sent} | {r.answered_per_second:.0f} | {r.lost} | "
        f"{r.noerror_percent:.1f}% | {r.p50_ms:.2f} | {r.p99_ms:.2f} |"
        for r in results
    ]
    return "\n".join(lines)


@dataclass(frozen=True)
class _Alone:
    layout: Layout
    ports: Ports


def main() -> None:
    stop_on_sigterm()
    root = Path(tempfile.mkdtemp(prefix="dockyard-bench-"))
    layout, ports = Layout(root / "sandbox"), Ports.pick_free()
    try:
        cluster.up(layout, ports=ports, topology=default_topology(4))
        table = run(_Alone(layout, ports))
    finally:
        cluster.down(layout)
        shutil.rmtree(root, ignore_errors=True)
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        "?",
    )
    now = dt.datetime.now(dt.UTC)
    print(
        f"{now:%Y-%m-%d %H:%M} UTC; {platform.node()}: {os.cpu_count()} CPU ({cpu}), Python {platform.python_version()}"
    )
    print(table)


if __name__ == "__main__":
    main()
