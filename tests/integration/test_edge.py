"""The edge load balancer: the real Caddy, configured only through its admin API.

- Against a Caddy of the test's own (the sandbox's binary, its start-up config) with real upstreams
  (plain HTTP servers on 127.0.0.1–3, the backends, not a fake balancer): weighted shares, the Host
  with or without a port, per-host metrics, active health checks on the readiness path, a closing
  upstream costing no request, 503 with no instance, 404 for other hosts, a restarted Caddy written again.
- Through a Dockyard server on the sandbox: a group's edge entry makes a route that follows its
  instances (KWOK pods: their IPs carry no traffic, the routes are what is checked here; traffic to
  real pods is in test_edge_real.py once the real node is there).
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from dockyard.adapters.edge.caddy import CaddyEdge, route_id
from dockyard.adapters.kube.client import KubeCluster
from dockyard.domain.discovery import global_name
from dockyard.domain.edge import EdgeEntry, EdgeWrite, edge_route
from dockyard.domain.live import PodRecord
from dockyard.domain.model import GroupPath
from dockyard.domain.versions import parse_spec
from dockyard.sandbox import edge, processes
from dockyard.sandbox.binaries import ensure_binaries
from dockyard.sandbox.layout import Layout, Ports
from tests.integration.harness.client import Api, create_group, register_cluster
from tests.integration.harness.sandboxes import Sandbox, free_port
from tests.integration.harness.servers import in_process, settings
from tests.integration.harness.specs import TINY
from tests.integration.harness.tokens import ADMIN
from tests.integration.harness.waiting import Not, eventually

GROUP = GroupPath("shop", "web", "prod")
HOST = global_name(GROUP)


@dataclass
class Caddy:
    layout: Layout
    ports: Ports
    binary: Path

    @property
    def admin(self) -> str:
        return f"http://127.0.0.1:{self.ports.edge_admin}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports.edge}"

    def start(self) -> None:
        edge.write_config(self.layout, self.ports)
        processes.start(
            edge.argv(self.layout, self.binary),
            pid_file=self.layout.pid_file(edge.NAME),
            log_file=self.layout.log(edge.NAME),
            env=edge.env(self.layout),
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.admin}/config/", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"caddy did not start; see {self.layout.log(edge.NAME)}")

    def stop(self) -> None:
        processes.stop(self.layout.pid_file(edge.NAME), marker=str(self.layout.root))


@pytest.fixture
def caddy(tmp_path: Path) -> Iterator[Caddy]:
    """A Caddy of the test's own, as the sandbox starts it (its config, its environment)."""
    layout = Layout(tmp_path / "edge")
    layout.make_dirs()
    started = Caddy(layout, Ports.pick_free(), ensure_binaries().caddy)
    started.start()
    yield started
    started.stop()


class Backend:
    """An instance's HTTP server on ``ip:port``: answers its name; ``/ready`` 200 or 503."""

    def __init__(self, name: str, ip: str, port: int) -> None:
        self.name, self.ready, self.hits = name, True, 0
        backend = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/ready":
                    code, body = (200, b"ok\n") if backend.ready else (503, b"not ready\n")
                else:
                    backend.hits += 1
                    code, body = 200, f"{backend.name}\n".encode()
                self.send_response(code)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((ip, port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def pod(name: str, version: int, ip: str) -> PodRecord:
    return PodRecord(
        namespace="shop",
        name=name,
        uid=name,
        app="web",
        group="prod",
        version=str(version),
        phase="Running",
        ready=True,
        restarts=0,
        pod_ip=ip,
        host_ip="127.0.0.1",
        node="local",
        created=0.0,
        reason="",
        deleting=False,
    )


@pytest.fixture
def backends() -> Iterator[tuple[int, dict[str, Backend]]]:
    port = free_port()
    made = {
        "p1": Backend("v1-p1", "127.0.0.1", port),
        "p2": Backend("v1-p2", "127.0.0.2", port),
        "p3": Backend("v2-p3", "127.0.0.3", port),
    }
    yield port, made
    for backend in made.values():
        backend.close()


def counter(metrics: str, name: str, **labels: str) -> float:
    """The sum of the series of ``name`` whose labels include ``labels`` (Prometheus text format)."""
    total = 0.0
    for line in metrics.splitlines():
        match = re.fullmatch(rf"{name}\{{(.*)\}} (\S+)", line)
        if match and all(f'{k}="{v}"' in match.group(1) for k, v in labels.items()):
            total += float(match.group(2))
    return total


async def test_caddy_balances_checks_and_drains_through_its_admin_api(
    caddy: Caddy, backends: tuple[int, dict[str, Backend]]
) -> None:
    port, backend = backends
    spec = parse_spec(
        {
            "image": "r.local/shop/web:1",
            "flavor": "tiny",
            "instances": 3,
            "ports": [{"name": "http", "port": port}],
            "readiness": {"port": port, "path": "/ready", "period_seconds": 1},
        }
    )
    pods = [pod("p1", 1, "127.0.0.1"), pod("p2", 1, "127.0.0.2"), pod("p3", 2, "127.0.0.3")]
    route = edge_route(GROUP, EdgeEntry(), instances=pods, versions={1: spec, 2: spec}, new_version=2, share=50)
    balancer = CaddyEdge(caddy.admin)
    async with httpx.AsyncClient(base_url=caddy.url, timeout=10) as http:
        try:
            assert await balancer.apply([route]) == EdgeWrite(full=True)
            assert await balancer.apply([route]) == EdgeWrite()  # idempotent

            # Weighted shares: v2 has one instance of three and half of the requests.
            before = (await http.get(f"{caddy.admin}/metrics")).text
            answers = Counter()
            for i in range(1000):
                host = HOST if i % 2 else f"{HOST}:{caddy.ports.edge}"  # with or without the port
                got = await http.get("/", headers={"Host": host})
                assert got.status_code == 200, got.text
                answers[got.text.strip().split("-")[0]] += 1
            assert abs(answers["v2"] - 500) <= 50, answers
            after = (await http.get(f"{caddy.admin}/metrics")).text
            labels = {"server": edge.SERVER, "handler": "reverse_proxy", "host": HOST}
            assert (
                counter(after, "caddy_http_requests_total", **labels)
                - counter(before, "caddy_http_requests_total", **labels)
                == 1000
            )
            assert counter(after, "caddy_http_request_duration_seconds_count", code="200", **labels) >= 1000

            # Other hosts: 404; a group with no instance ready: 503.
            assert (await http.get("/", headers={"Host": "nobody.example"})).status_code == 404
            empty = edge_route(
                GroupPath("shop", "api", "prod"), EdgeEntry(), instances=[], versions={}, new_version=None
            )
            assert (await balancer.apply([route, empty])).added == 1
            assert (await http.get("/", headers={"Host": empty.host})).status_code == 503

            # Active health checks on the readiness path: p2 not ready → no request reaches it.
            backend["p2"].ready = False
            await asyncio.sleep(2.5)  # checks run every second
            hits = backend["p2"].hits
            for _ in range(200):
                assert (await http.get("/", headers={"Host": HOST})).status_code == 200
            assert backend["p2"].hits == hits

            # An upstream that goes away costs no request: refused connections are tried on another.
            backend["p1"].close()
            codes = Counter([(await http.get("/", headers={"Host": HOST})).status_code for _ in range(200)])
            assert codes == Counter({200: 200}), codes

            # A restarted Caddy comes back with its start-up config; the next sync writes it all again.
            caddy.stop()
            caddy.start()
            assert (await http.get("/", headers={"Host": HOST})).status_code == 404
            assert (await balancer.apply([route, empty])).full
            assert (await http.get("/", headers={"Host": HOST})).status_code == 200
        finally:
            await balancer.aclose()


# --- through a Dockyard server on the sandbox -------------------------------------------------------


@pytest.fixture
async def edge_api(sandbox: Sandbox, database_url: str, kube: KubeCluster, tmp_path: Path) -> AsyncIterator[Api]:
    """A server in-process whose edge is the sandbox's Caddy, with cluster ``local`` and a group."""
    system = f"edge-{uuid.uuid4().hex[:8]}"
    config = settings(database_url, tmp_path, edge_admin_url=f"http://127.0.0.1:{sandbox.ports.edge_admin}")
    async with in_process(config, headers=ADMIN) as server:
        await register_cluster(server.http, sandbox, labels={"idc": "local"})
        await create_group(server.http, system, business_id="b-1")
        yield Api(server.http, server.platform, system)
    await kube.delete("v1", "Namespace", system)


async def test_a_groups_edge_route_follows_its_instances(edge_api: Api, sandbox: Sandbox) -> None:
    api = edge_api
    admin = f"http://127.0.0.1:{sandbox.ports.edge_admin}"
    spec = {**TINY, "readiness": {"port": 8080, "path": "/healthz"}}
    await api.act("deploy", {"spec": spec})
    host = f"prod.web.{api.system}.dockyard.internal"

    async def live_ips() -> set[str]:
        pods = (await api.http.get(f"{api.group}/instances")).json()["items"]
        return {f"{p['pod_ip']}:8080" for p in pods if p["ready"] and not p["deleting"]}

    async def routed() -> set[str] | None:
        async with httpx.AsyncClient(base_url=admin) as http:
            got = await http.get(f"/id/{route_id(host)}")
        if got.status_code != 200:
            return None
        return {u["dial"] for u in got.json()["handle"][0].get("upstreams", [])}

    entry = await api.http.put(f"{api.group}/edge", json={})
    assert entry.status_code == 200, entry.text
    shown = entry.json()
    assert (shown["host"], shown["enabled"], shown["port"], shown["health_path"]) == (host, True, "", "/healthz")
    ips = await live_ips()
    assert len(ips) == 3
    assert {u["address"] for u in shown["upstreams"]} == ips

    async def route_is(wanted: set[str]) -> set[str] | Not:
        got = await routed()
        return got if got == wanted else Not(got)

    await eventually(lambda: route_is(ips), "the route to hold the 3 instances", timeout=5)
    await api.act("scale", {"instances": 1})
    one = await live_ips()
    assert len(one) == 1
    await eventually(lambda: route_is(one), "the route to follow the scale-in", timeout=5)

    bad = await api.http.put(f"{api.group}/edge", json={"port": "grpc"})
    assert bad.status_code == 422, bad.text
    assert bad.json()["details"]["field"] == "port"

    assert (await api.http.delete(f"{api.group}/edge")).status_code == 204
    await eventually(lambda: _absent(routed), "the route to go", timeout=5)
    assert (await api.http.get(f"{api.group}/edge")).json()["enabled"] is False


async def _absent(routed: Any) -> bool:
    return await routed() is None
