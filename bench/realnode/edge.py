"""Request latency through the edge load balancer (HAProxy, configured through its runtime API) vs
straight to an instance, same run, same instances: 10,000 sequential GETs each way on keep-alive
connections, in alternating blocks of 500 so both sides see the same machine load.

    .venv/bin/python -m bench.realnode.edge [--requests 10000]

Alone (this command), the instances are three plain HTTP servers of the bench's own on 127.0.0.1–3
behind an HAProxy of its own (the sandbox's configuration, on free ports). As a section of
``bench/real_node.py`` (:func:`run`), they are three pods on the sandbox's real node (busybox httpd),
deployed by Dockyard, and the HAProxy is the sandbox's. The route is the one Dockyard computes
(domain/edge.py) and writes (adapters/edge/haproxy.py). Prints a Markdown table for docs/benchmarks.md.
Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from dockyard.adapters.edge.haproxy import HAProxyEdge
from dockyard.domain.edge import EdgeEntry, EdgeRoute, edge_route, global_name
from dockyard.domain.live import PodRecord
from dockyard.domain.model import GroupPath
from dockyard.domain.versions import parse_spec
from dockyard.sandbox import edge
from dockyard.sandbox.layout import Layout, Ports

if TYPE_CHECKING:
    from bench.realnode import Context

BLOCK = 500


def _pod(name: str, ip: str) -> PodRecord:
    return PodRecord("bench", name, name, "web", "edge", "1", "Running", True, 0, ip, ip, "n", 0.0, "", False)


def _route(group: GroupPath, port: int, ips: list[str]) -> EdgeRoute:
    spec = parse_spec(
        {
            "image": "r.local/bench/web:1",
            "flavor": "tiny",
            "instances": len(ips),
            "ports": [{"name": "http", "port": port}],
            "readiness": {"port": port, "path": "/index.html"},
        }
    )
    pods = [_pod(f"p{i}", ip) for i, ip in enumerate(ips)]
    return edge_route(group, EdgeEntry(), instances=pods, versions={1: spec})


def measure(lb: Callable[[], httpx.Response], direct: Callable[[], httpx.Response], requests: int) -> dict[str, Any]:
    """Latencies (ms) of ``requests`` calls of each, in alternating blocks; failures counted."""
    samples: dict[str, list[float]] = {"lb": [], "direct": []}
    failed = {"lb": 0, "direct": 0}
    for _ in range(5):  # warm the connections and HAProxy's
        lb(), direct()
    done = 0
    while done < requests:
        block = min(BLOCK, requests - done)
        for side, call in (("lb", lb), ("direct", direct)):
            for _ in range(block):
                started = time.perf_counter()
                answer = call()
                samples[side].append((time.perf_counter() - started) * 1000)
                failed[side] += answer.status_code != 200
        done += block
    out: dict[str, Any] = {}
    for side, values in samples.items():
        values.sort()
        out[side] = (statistics.median(values), values[int(len(values) * 0.99) - 1], failed[side])
    return out


def table(result: dict[str, Any], requests: int, what: str) -> str:
    lb, direct = result["lb"], result["direct"]
    return "\n".join(
        [
            f"{requests:,} sequential GETs each way, {what}; {time.strftime('%Y-%m-%d')}, {platform.node()}, "
            f"{platform.processor() or platform.machine()}",
            "",
            "| path | p50 (ms) | p99 (ms) | failed |",
            "|---|---|---|---|",
            f"| through the edge (HAProxy, Host = global name) | {lb[0]:.3f} | {lb[1]:.3f} | {lb[2]} |",
            f"| straight to an instance | {direct[0]:.3f} | {direct[1]:.3f} | {direct[2]} |",
            f"| **added by the edge** | **{lb[0] - direct[0]:.3f}** | **{lb[1] - direct[1]:.3f}** | |",
        ]
    )


def _through(edge_url: str, host: str, direct_url: str, requests: int) -> dict[str, Any]:
    with (
        httpx.Client(base_url=edge_url, headers={"Host": host}, timeout=10) as via,
        httpx.Client(base_url=direct_url, timeout=10) as straight,
    ):
        return measure(lambda: via.get("/index.html"), lambda: straight.get("/index.html"), requests)


# --- alone: local backends and an HAProxy of the bench's own ----------------------------------------


class _Backend(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the bench's client and HAProxy reuse their connections
    # One write per answer, sent at once: headers and body in two small writes meet Nagle's algorithm
    # and the client's delayed ACK (40 ms a request).
    wbufsize = -1
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        body = b"edge bench\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        pass


def alone(requests: int) -> str:
    with tempfile.TemporaryDirectory(prefix="dockyard-edge-bench-") as tmp:
        layout = Layout(Path(tmp))
        layout.make_dirs()
        ports = Ports.pick_free()
        edge.start_own(layout, ports)
        servers: list[ThreadingHTTPServer] = []
        try:
            port = Ports.pick_free().registry  # a port free on loopback
            ips = ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
            for ip in ips:
                server = _Quiet((ip, port), _Backend)
                threading.Thread(target=server.serve_forever, daemon=True).start()
                servers.append(server)
            group = GroupPath("bench", "web", "edge")
            asyncio.run(_apply(str(edge.runtime_socket(layout)), _route(group, port, ips)))
            result = _through(f"http://127.0.0.1:{ports.edge}", global_name(group), f"http://{ips[0]}:{port}", requests)
        finally:
            for server in servers:
                server.shutdown()
                server.server_close()
            edge.stop_own(layout)
    return table(result, requests, "3 local HTTP servers (Python http.server) behind an HAProxy of the bench's own")


class _Quiet(ThreadingHTTPServer):
    def handle_error(self, *_: Any) -> None:
        pass  # HAProxy's health checks and idle connections end with a reset: no traceback for each


async def _apply(runtime: str, route: EdgeRoute) -> None:
    balancer = HAProxyEdge(runtime)
    try:
        await balancer.apply([route])
    finally:
        await balancer.aclose()


def _wait(ok: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if ok():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("not ready in time")


# --- a section of bench/real_node.py: three pods on the real node -----------------------------------


def run(ctx: Context, requests: int = 10_000) -> str:
    from bench.deploy_throughput import APP
    from bench.realnode import web_spec

    system = "edgebench"
    ctx.server.make_groups(system, ["g"])
    with httpx.Client(base_url=ctx.server.url + "/api/v1", headers=ctx.server.headers, timeout=60) as api:
        group_url = f"/systems/{system}/apps/{APP}/groups/g"
        answer = api.post(f"{group_url}/deploy", json={"spec": web_spec(ctx, 3, "edge bench")})
        answer.raise_for_status()
        operation = answer.json()["id"]
        _wait(lambda: api.get(f"/operations/{operation}").json()["status"] == "succeeded", timeout=300)
        pods = [p for p in api.get(f"{group_url}/instances").json()["items"] if p["ready"]]
    ips = [p["pod_ip"] for p in pods]
    group = GroupPath(system, APP, "g")
    asyncio.run(_apply(str(edge.runtime_socket(ctx.layout)), _route(group, 8080, ips)))
    result = _through(f"http://127.0.0.1:{ctx.ports.edge}", global_name(group), f"http://{ips[0]}:8080", requests)
    return table(result, requests, "3 busybox httpd pods on the sandbox's real node behind the sandbox's HAProxy")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    print(alone(parser.parse_args().requests))


if __name__ == "__main__":
    main()
