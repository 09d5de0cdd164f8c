"""The edge load balancer: the real HAProxy (Debian's 2.6), configured only through its runtime API.

- Against an HAProxy of the test's own (the sandbox's configuration) with real upstreams (plain HTTP
  servers on 127.0.0.1–3, the backends, not a fake balancer): weighted shares, the Host with or
  without a port, requests per instance from the Prometheus exporter, health checks on the readiness
  path, a closing upstream costing no request, 503 with no instance, 404 for other hosts, a
  restarted HAProxy written again, and **0 failed requests** for a keep-alive client that never
  retries while instances come and go, weights change and other groups' hosts are added and removed.
- Through a Dockyard server on the sandbox: a group's edge entry makes a route that follows its
  instances (KWOK pods: their IPs carry no traffic, the routes are what is checked here, and that the
  sync's writes close no client connection; traffic to real pods is in test_edge_real.py).
"""

from __future__ import annotations

import asyncio
import re
import threading
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from dockyard.adapters.edge.haproxy import HAProxyEdge
from dockyard.adapters.kube.client import KubeCluster
from dockyard.domain.discovery import global_name
from dockyard.domain.edge import EdgeEntry, EdgeRoute, EdgeWrite, Upstream, edge_route
from dockyard.domain.live import PodRecord
from dockyard.domain.model import GroupPath
from dockyard.domain.versions import parse_spec
from dockyard.sandbox import edge
from dockyard.sandbox.layout import Layout, Ports
from tests.integration.harness.client import Api, create_group, register_cluster
from tests.integration.harness.edge import held_route, plain_async_client, plain_client
from tests.integration.harness.sandboxes import Sandbox, free_port
from tests.integration.harness.servers import in_process, settings
from tests.integration.harness.specs import TINY
from tests.integration.harness.tokens import ADMIN
from tests.integration.harness.waiting import Not, eventually

GROUP = GroupPath("shop", "web", "prod")
HOST = global_name(GROUP)


@dataclass
class HAProxy:
    layout: Layout
    ports: Ports

    @property
    def runtime(self) -> str:
        return str(edge.runtime_socket(self.layout))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports.edge}"

    @property
    def metrics(self) -> str:
        return f"http://127.0.0.1:{self.ports.edge_admin}/metrics"

    def start(self) -> None:
        edge.start_own(self.layout, self.ports)

    def stop(self) -> None:
        edge.stop_own(self.layout)


@pytest.fixture
def haproxy(tmp_path: Path) -> Iterator[HAProxy]:
    """An HAProxy of the test's own, as the sandbox starts it (its configuration, empty maps)."""
    layout = Layout(tmp_path / "edge")
    layout.make_dirs()
    started = HAProxy(layout, Ports.pick_free())
    started.start()
    yield started
    started.stop()


class _Quiet(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, *_: Any) -> None:
        pass  # HAProxy resets idle connections and health checks: no traceback for each


class Backend:
    """An instance's HTTP server on ``ip:port``: answers its name; ``/ready`` 200 or 503."""

    def __init__(self, name: str, ip: str, port: int) -> None:
        self.name, self.ready, self.hits = name, True, 0
        backend = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive between HAProxy and the instance too

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

        self.server = _Quiet((ip, port), Handler)
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


class Load:
    """GETs through the edge from one thread (``pause`` seconds apart: 0 as fast as it goes) on one
    keep-alive connection, never retried; every answer's body or failure kept."""

    def __init__(self, url: str, host: str, pause: float = 0.0) -> None:
        self.url, self.host, self.pause = url, host, pause
        self.answers: Counter[str] = Counter()
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with plain_client(self.url, headers={"Host": self.host}) as http:
            while not self._stop.wait(self.pause):
                try:
                    got = http.get("/")
                except httpx.HTTPError as e:
                    self.failures.append(f"{type(e).__name__}: {e}")
                    continue
                if got.status_code == 200:
                    self.answers[got.text.strip()] += 1
                else:
                    self.failures.append(f"{got.status_code} {got.text[:80]!r}")

    def __enter__(self) -> Load:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


async def backend_of(haproxy: HAProxy, host: str) -> str:
    _, held = await HAProxyEdge(haproxy.runtime).read()
    return held.hosts[host]


async def test_haproxy_balances_checks_and_drains_through_its_runtime_api(
    haproxy: HAProxy, backends: tuple[int, dict[str, Backend]]
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
    balancer = HAProxyEdge(haproxy.runtime, verify_every=0.0)
    async with plain_async_client(haproxy.url) as http:
        first = await balancer.apply([route])
        assert (first.added, first.full) == (1, True)
        assert first.commands == 3 * 3 + 2  # add, enable health, enable per server; the health path; the host
        assert await balancer.apply([route]) == EdgeWrite()  # idempotent: read back, nothing sent
        assert await held_route(haproxy.runtime, HOST) == [
            (f"127.0.0.1:{port}", 1),
            (f"127.0.0.2:{port}", 1),
            (f"127.0.0.3:{port}", 2),
        ]

        # Weighted shares: v2 has one instance of three and half of the requests.
        before = (await http.get(haproxy.metrics)).text
        answers: Counter[str] = Counter()
        for i in range(1000):
            host = HOST if i % 2 else f"{HOST.upper()}:{haproxy.ports.edge}"  # any case, with or without the port
            got = await http.get("/", headers={"Host": host})
            assert got.status_code == 200, got.text
            answers[got.text.strip().split("-")[0]] += 1
        assert abs(answers["v2"] - 500) <= 50, answers
        # Requests per instance: the exporter's per-server 2xx responses.
        after = (await http.get(haproxy.metrics)).text
        be = await backend_of(haproxy, HOST)
        per_server = {
            name: counter(after, "haproxy_server_http_responses_total", proxy=be, server=name, code="2xx")
            - counter(before, "haproxy_server_http_responses_total", proxy=be, server=name, code="2xx")
            for name in (f"127.0.0.{i}:{port}" for i in (1, 2, 3))
        }
        assert sum(per_server.values()) == 1000, per_server
        assert abs(per_server[f"127.0.0.3:{port}"] - 500) <= 50, per_server

        # Other hosts: 404; a group with no instance ready: 503 with Retry-After.
        assert (await http.get("/", headers={"Host": "nobody.example"})).status_code == 404
        empty = edge_route(GroupPath("shop", "api", "prod"), EdgeEntry(), instances=[], versions={}, new_version=None)
        assert (await balancer.apply([route, empty])).added == 1
        none = await http.get("/", headers={"Host": empty.host})
        assert (none.status_code, none.headers.get("retry-after")) == (503, "1")

        # Health checks on the readiness path: p2 not ready → no request reaches it.
        backend["p2"].ready = False
        await asyncio.sleep(3.0)  # checks every second, down after two failures
        hits = backend["p2"].hits
        for _ in range(200):
            assert (await http.get("/", headers={"Host": HOST})).status_code == 200
        assert backend["p2"].hits == hits
        backend["p2"].ready = True

        # An upstream that goes away costs no request: refused connections are tried on another.
        backend["p1"].close()
        codes = Counter([(await http.get("/", headers={"Host": HOST})).status_code for _ in range(200)])
        assert codes == Counter({200: 200}), codes

        # A restarted HAProxy comes back with empty maps; the next sync writes it all again.
        haproxy.stop()
        haproxy.start()
    async with plain_async_client(haproxy.url) as http:
        assert (await http.get("/", headers={"Host": HOST})).status_code == 404
        again = await balancer.apply([route, empty])
        assert again.full
        assert again.added == 2
        assert (await http.get("/", headers={"Host": HOST})).status_code == 200


async def test_instances_weights_and_hosts_change_under_load_and_no_request_fails(
    haproxy: HAProxy, backends: tuple[int, dict[str, Backend]]
) -> None:
    """The point of the runtime API: no change closes a client connection. A keep-alive client that
    never retries sends as fast as it goes while 60 syncs move instances in and out (added, drained
    into maintenance, deleted), change weights, and add and remove a second group's host."""
    port, backend = backends
    addresses = {name: f"{b.server.server_address[0]}:{port}" for name, b in backend.items()}
    balancer = HAProxyEdge(haproxy.runtime, verify_every=0.0)
    other = GroupPath("shop", "api", "prod")

    def routes(i: int) -> list[EdgeRoute]:
        chosen = [("p1", "p2"), ("p1", "p2", "p3"), ("p2", "p3"), ("p1", "p3"), ("p3",)][i % 5]
        upstreams = tuple(Upstream(1, addresses[n], 1 + (i + k) % 4) for k, n in enumerate(chosen))
        made = [EdgeRoute(GROUP, HOST, upstreams, None)]
        if i % 3 == 0:
            made.append(EdgeRoute(other, global_name(other), upstreams, None))
        return made

    await balancer.apply(routes(0))
    with Load(haproxy.url, HOST) as load:
        await asyncio.sleep(0.3)
        for i in range(1, 61):
            await balancer.apply(routes(i))
            await asyncio.sleep(0.1)
    sent = balancer.sent
    print(f"\n{sum(load.answers.values())} answers {dict(load.answers)}, {len(load.failures)} failed; {sent} commands")
    assert load.failures == [], load.failures[:20]
    assert sum(load.answers.values()) > 500
    assert set(load.answers) == {"v1-p1", "v1-p2", "v2-p3"}
    assert sent > 60


# --- through a Dockyard server on the sandbox -------------------------------------------------------


@pytest.fixture
async def edge_api(sandbox: Sandbox, database_url: str, kube: KubeCluster, tmp_path: Path) -> AsyncIterator[Api]:
    """A server in-process whose edge is the sandbox's HAProxy, with cluster ``local`` and a group."""
    system = f"edge-{uuid.uuid4().hex[:8]}"
    config = settings(database_url, tmp_path, edge_runtime=str(edge.runtime_socket(sandbox.layout)))
    async with in_process(config, headers=ADMIN) as server:
        await register_cluster(server.http, sandbox, labels={"idc": "local"})
        await create_group(server.http, system, business_id="b-1")
        yield Api(server.http, server.platform, system)
    await kube.delete("v1", "Namespace", system)


async def test_a_groups_edge_route_follows_its_instances(edge_api: Api, sandbox: Sandbox) -> None:
    api = edge_api
    runtime = str(edge.runtime_socket(sandbox.layout))
    spec = {**TINY, "readiness": {"port": 8080, "path": "/healthz"}}
    await api.act("deploy", {"spec": spec})
    host = f"prod.web.{api.system}.dockyard.internal"

    async def live_ips() -> set[str]:
        pods = (await api.http.get(f"{api.group}/instances")).json()["items"]
        return {f"{p['pod_ip']}:8080" for p in pods if p["ready"] and not p["deleting"]}

    async def routed() -> set[str] | None:
        held = await held_route(runtime, host)
        return None if held is None else {address for address, _ in held}

    # The sync's writes close no client connection: a keep-alive client asks for a host nobody
    # serves (its 404 keeps the connection) all along, and never sees a connection closed.
    edge_url = f"http://127.0.0.1:{sandbox.ports.edge}"
    with Load(edge_url, "nobody.example", pause=0.01) as load:
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
    closed = [f for f in load.failures if not f.startswith("404 ")]
    assert closed == [], closed[:20]
    assert len(load.failures) > 20  # the 404s: the load ran


async def _absent(routed: Any) -> bool:
    return await routed() is None
