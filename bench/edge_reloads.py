"""What route writes cost the requests in flight, now that the edge (HAProxy 2.6) takes them through
its runtime API without a reload. One client sends GETs as fast as it can through an HAProxy of the
bench's own (the sandbox's configuration) to local backends while the routes are written ``--writes``
times, 0.25 s apart: each write changes the group's instances (a server added or put in maintenance
and deleted) and their weights, and every other write adds or removes a second group's host (a map
entry). Once with a connection per request, once with keep-alive; the client never retries. Prints
what failed and how many runtime commands were sent, for docs/edge.md. Not a test: nothing here
asserts anything.

    .venv/bin/python -m bench.edge_reloads --writes 40
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from dockyard.adapters.edge.haproxy import HAProxyEdge
from dockyard.domain.edge import EdgeRoute, Upstream, global_name
from dockyard.domain.model import GroupPath
from dockyard.sandbox import edge
from dockyard.sandbox.layout import Layout, Ports

GROUP = GroupPath("bench", "web", "edge")
OTHER = GroupPath("bench", "api", "edge")


class _Backend(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive between HAProxy and the backends too
    wbufsize = -1
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "3")
        self.end_headers()
        self.wfile.write(b"ok\n")

    def log_message(self, *_: Any) -> None:
        pass


class _Quiet(ThreadingHTTPServer):
    def handle_error(self, *_: Any) -> None:
        pass  # HAProxy closes idle backend connections with a reset: not worth a traceback


def _load(url: str, keep_alive: bool, stop: threading.Event, seen: Counter[str]) -> None:
    limits = httpx.Limits() if keep_alive else httpx.Limits(max_keepalive_connections=0)
    transport = httpx.HTTPTransport(retries=0, limits=limits)
    with httpx.Client(base_url=url, headers={"Host": global_name(GROUP)}, transport=transport, timeout=10) as http:
        while not stop.is_set():
            try:
                answer = http.get("/")
                seen["200" if answer.status_code == 200 else f"HTTP {answer.status_code}"] += 1
            except httpx.HTTPError as e:
                seen[f"{type(e).__name__}: {str(e)[:60]}"] += 1


def routes(backends: list[ThreadingHTTPServer], i: int) -> list[EdgeRoute]:
    """The i-th write's routes: 2–4 of the backends with weights that move, and every other time a
    second group's host."""
    chosen = backends[: 2 + i % (len(backends) - 1)]
    upstreams = tuple(Upstream(1, f"127.0.0.1:{b.server_port}", 1 + (i + n) % 3) for n, b in enumerate(chosen))
    made = [EdgeRoute(GROUP, global_name(GROUP), upstreams, None)]
    if i % 2:
        made.append(EdgeRoute(OTHER, global_name(OTHER), upstreams[:1], None))
    return made


async def _writes(balancer: HAProxyEdge, backends: list[ThreadingHTTPServer], first: int, last: int) -> None:
    for i in range(first, last):
        await balancer.apply(routes(backends, i))
        await asyncio.sleep(0.25)


def run(keep_alive: bool, writes: int) -> tuple[Counter[str], float, int]:
    with tempfile.TemporaryDirectory(prefix="dockyard-edge-writes-") as tmp:
        layout = Layout(Path(tmp))
        layout.make_dirs()
        ports = Ports.pick_free()
        edge.start_own(layout, ports)
        backends: list[ThreadingHTTPServer] = [_Quiet(("127.0.0.1", 0), _Backend) for _ in range(4)]
        for backend in backends:
            threading.Thread(target=backend.serve_forever, daemon=True).start()
        stop, seen = threading.Event(), Counter[str]()
        try:
            balancer = HAProxyEdge(str(edge.runtime_socket(layout)), verify_every=0.0)
            asyncio.run(_writes(balancer, backends, 0, 1))  # the route in place before the load starts
            sent = balancer.sent
            load = threading.Thread(target=_load, args=(f"http://127.0.0.1:{ports.edge}", keep_alive, stop, seen))
            started = time.monotonic()
            load.start()
            asyncio.run(_writes(balancer, backends, 1, writes + 1))
            stop.set()
            load.join()
            return seen, time.monotonic() - started, balancer.sent - sent
        finally:
            for backend in backends:
                backend.shutdown()
                backend.server_close()
            edge.stop_own(layout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=40)
    writes = parser.parse_args().writes
    print("| client | route writes | runtime commands | requests | per second | failed | what failed |")
    print("|---|---|---|---|---|---|---|")
    for keep_alive in (False, True):
        seen, seconds, sent = run(keep_alive, writes)
        total = sum(seen.values())
        failed = {k: v for k, v in seen.items() if k != "200"}
        what = "; ".join(f"{v}× {k}" for k, v in sorted(failed.items())) or "-"
        client = "keep-alive" if keep_alive else "a connection per request"
        print(f"| {client} | {writes} | {sent} | {total:,} | {total / seconds:.0f} | {sum(failed.values())} | {what} |")


if __name__ == "__main__":
    main()
