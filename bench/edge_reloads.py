"""What a route write costs the requests in flight: Caddy reloads its whole configuration on every
admin API change. One client sends GETs as fast as it can through a Caddy of the bench's own (the
sandbox's binary and start-up config) to local backends while the routes are written ``--writes``
times, 0.25 s apart (the upstream list changing each time); once with a connection per request, once
with keep-alive. Prints what failed, for docs/edge.md. Not a test: nothing here asserts anything.

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

from dockyard.adapters.edge.caddy import CaddyEdge
from dockyard.domain.edge import EdgeRoute, Upstream, global_name
from dockyard.domain.model import GroupPath
from dockyard.sandbox import edge, processes
from dockyard.sandbox.binaries import ensure_binaries
from dockyard.sandbox.layout import Layout, Ports

GROUP = GroupPath("bench", "web", "edge")


class _Backend(BaseHTTPRequestHandler):
    wbufsize = -1
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "3")
        self.end_headers()
        self.wfile.write(b"ok\n")

    def log_message(self, *_: Any) -> None:
        pass


def _load(url: str, keep_alive: bool, stop: threading.Event, seen: Counter[str]) -> None:
    limits = httpx.Limits() if keep_alive else httpx.Limits(max_keepalive_connections=0)
    with httpx.Client(base_url=url, headers={"Host": global_name(GROUP)}, limits=limits, timeout=10) as http:
        while not stop.is_set():
            try:
                answer = http.get("/")
                seen["200" if answer.status_code == 200 else f"HTTP {answer.status_code}"] += 1
            except httpx.HTTPError as e:
                seen[f"{type(e).__name__}: {str(e)[:60]}"] += 1


async def _writes(admin: str, backends: list[ThreadingHTTPServer], writes: int) -> None:
    balancer = CaddyEdge(admin)
    try:
        for i in range(writes + 1):  # the first one puts the route in place, before the load starts
            chosen = backends[: 2 + i % (len(backends) - 1)]
            upstreams = tuple(Upstream(1, f"127.0.0.1:{b.server_port}", 1) for b in chosen)
            await balancer.apply([EdgeRoute(GROUP, global_name(GROUP), upstreams, None)])
            await asyncio.sleep(0.25 if i else 0.5)
    finally:
        await balancer.aclose()


def run(keep_alive: bool, writes: int) -> tuple[Counter[str], float]:
    with tempfile.TemporaryDirectory(prefix="dockyard-edge-reloads-") as tmp:
        layout = Layout(Path(tmp))
        layout.make_dirs()
        ports = Ports.pick_free()
        edge.write_config(layout, ports)
        processes.start(
            edge.argv(layout, ensure_binaries().caddy),
            pid_file=layout.pid_file(edge.NAME),
            log_file=layout.log(edge.NAME),
            env=edge.env(layout),
        )
        backends = [ThreadingHTTPServer(("127.0.0.1", 0), _Backend) for _ in range(4)]
        for backend in backends:
            threading.Thread(target=backend.serve_forever, daemon=True).start()
        stop, seen = threading.Event(), Counter[str]()
        try:
            admin = f"http://127.0.0.1:{ports.edge_admin}"
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    httpx.get(f"{admin}/config/", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            asyncio.run(_writes(admin, backends, 0))
            load = threading.Thread(target=_load, args=(f"http://127.0.0.1:{ports.edge}", keep_alive, stop, seen))
            started = time.monotonic()
            load.start()
            asyncio.run(_writes(admin, backends, writes))
            stop.set()
            load.join()
            return seen, time.monotonic() - started
        finally:
            for backend in backends:
                backend.shutdown()
                backend.server_close()
            processes.stop(layout.pid_file(edge.NAME), marker=str(layout.root))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=40)
    writes = parser.parse_args().writes
    print("| client | requests | per second | failed | what failed |")
    print("|---|---|---|---|---|")
    for keep_alive in (False, True):
        seen, seconds = run(keep_alive, writes)
        total = sum(seen.values())
        failed = {k: v for k, v in seen.items() if k != "200"}
        what = "; ".join(f"{v}× {k}" for k, v in sorted(failed.items())) or "-"
        client = "keep-alive" if keep_alive else "a connection per request"
        print(f"| {client} | {total:,} | {total / seconds:.0f} | {sum(failed.values())} | {what} |")


if __name__ == "__main__":
    main()
