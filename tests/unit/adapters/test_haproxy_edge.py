"""The HAProxy adapter: the runtime commands a sync plans (pure, table-tested), the parsers of what
HAProxy answers, and a sync's calls against a fake runtime API on a unix socket (the real HAProxy is
in tests/integration/test_edge.py)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from dockyard.adapters.edge.haproxy import (
    EdgeError,
    EdgeUnavailable,
    HAProxyEdge,
    Held,
    Server,
    haproxy_weights,
    parse_backends,
    parse_map,
    parse_maps,
    parse_servers,
    plan,
    wanted_servers,
)
from dockyard.domain.edge import EdgeRoute, EdgeWrite, HealthCheck, Upstream
from dockyard.domain.model import GroupPath

GROUP = GroupPath("shop", "web", "prod")
HOST = "prod.web.shop.dockyard.internal"
OTHER = "prod.api.shop.dockyard.internal"
ROUTE = EdgeRoute(
    GROUP,
    HOST,
    (Upstream(1, "10.250.0.1:8080", 1), Upstream(1, "10.250.0.2:8080", 1), Upstream(2, "10.250.0.3:8080", 2)),
    HealthCheck("/ready", 8080),
)
MAPS = {"hosts_map": "/s/hosts.map", "health_map": "/s/health.map"}
POOL = ("edge_0", "edge_1", "edge_2")
EMPTY = Held({}, {}, POOL)


def up(address: str, weight: int = 1, *, checked: bool = True, port: int = 8080, maint: bool = False) -> Server:
    return Server(address, weight, maint, checked, port)


HELD = Held(
    {HOST: "edge_0"},
    {"edge_0": "/ready"},
    POOL,
    {
        "edge_0": {
            "10.250.0.1:8080": up("10.250.0.1:8080"),
            "10.250.0.2:8080": up("10.250.0.2:8080"),
            "10.250.0.3:8080": up("10.250.0.3:8080", 2),
        }
    },
)


@pytest.mark.parametrize(
    ("weights", "expected"),
    [
        ((1, 1, 2), (1, 1, 2)),
        ((256, 1), (256, 1)),
        ((370, 441), (215, 256)),
        ((1000, 1), (256, 1)),  # never below 1: a weight of 0 would take the instance out
        ((), ()),
    ],
)
def test_weights_fit_haproxys_range(weights: tuple[int, ...], expected: tuple[int, ...]) -> None:
    upstreams = tuple(Upstream(1, f"10.0.0.{i}:80", w) for i, w in enumerate(weights))
    assert haproxy_weights(upstreams) == expected


def test_wanted_servers_are_named_by_address_and_checked_on_the_readiness_port() -> None:
    servers = wanted_servers(ROUTE)
    assert list(servers) == ["10.250.0.1:8080", "10.250.0.2:8080", "10.250.0.3:8080"]
    assert servers["10.250.0.3:8080"] == Server("10.250.0.3:8080", 2, False, True, 8080)
    assert not wanted_servers(replace(ROUTE, health=None))["10.250.0.1:8080"].checked


CHECK = "check port 8080 inter 1s fall 2 rise 2"
PLANS = [
    pytest.param(
        [ROUTE],
        EMPTY,
        [
            f"add server edge_0/10.250.0.1:8080 10.250.0.1:8080 weight 1 {CHECK}",
            "enable health edge_0/10.250.0.1:8080",
            "enable server edge_0/10.250.0.1:8080",
            f"add server edge_0/10.250.0.2:8080 10.250.0.2:8080 weight 1 {CHECK}",
            "enable health edge_0/10.250.0.2:8080",
            "enable server edge_0/10.250.0.2:8080",
            f"add server edge_0/10.250.0.3:8080 10.250.0.3:8080 weight 2 {CHECK}",
            "enable health edge_0/10.250.0.3:8080",
            "enable server edge_0/10.250.0.3:8080",
            "add map /s/health.map edge_0 /ready",
            f"add map /s/hosts.map {HOST} edge_0",  # the host last: its servers are ready before
        ],
        (1, 0, 0),
        id="a new group: servers, health path, then the host",
    ),
    pytest.param([ROUTE], HELD, [], (0, 0, 0), id="nothing changed: no command"),
    pytest.param(
        [replace(ROUTE, upstreams=(Upstream(1, "10.250.0.1:8080", 1), Upstream(2, "10.250.0.3:8080", 1)))],
        HELD,
        [
            "set server edge_0/10.250.0.3:8080 weight 1",
            "set server edge_0/10.250.0.2:8080 state maint",  # drained at once, deleted when idle
            "del server edge_0/10.250.0.2:8080",
        ],
        (0, 1, 0),
        id="an instance gone and a weight step",
    ),
    pytest.param(
        [replace(ROUTE, upstreams=(Upstream(2, "10.250.0.4:8080", 1),))],
        HELD,
        [
            f"add server edge_0/10.250.0.4:8080 10.250.0.4:8080 weight 1 {CHECK}",
            "enable health edge_0/10.250.0.4:8080",
            "enable server edge_0/10.250.0.4:8080",
            *[
                c
                for i in (1, 2, 3)
                for c in (f"set server edge_0/10.250.0.{i}:8080 state maint", f"del server edge_0/10.250.0.{i}:8080")
            ],
        ],
        (0, 1, 0),
        id="every instance replaced: the new one in before the old ones go (never none: a 503)",
    ),
    pytest.param(
        [ROUTE],
        replace(HELD, doubled=frozenset({HOST})),
        [f"set map /s/hosts.map {HOST} edge_0"],
        (0, 1, 0),
        id="a host two replicas mapped at once: every entry to the backend kept",
    ),
    pytest.param(
        [ROUTE],
        replace(
            HELD, servers={"edge_0": {**HELD.servers["edge_0"], "10.250.0.9:8080": up("10.250.0.9:8080", maint=True)}}
        ),
        ["del server edge_0/10.250.0.9:8080"],
        (0, 1, 0),
        id="a deletion HAProxy refused earlier (connections attached) is tried again",
    ),
    pytest.param(
        [replace(ROUTE, health=None)],
        HELD,
        [f"disable health edge_0/10.250.0.{i}:8080" for i in (1, 2, 3)],
        (0, 1, 0),
        id="no common readiness path: checks stop (servers count as up)",
    ),
    pytest.param(
        [replace(ROUTE, health=HealthCheck("/healthz", 9090))],
        HELD,
        [
            *[f"set server edge_0/10.250.0.{i}:8080 check-port 9090" for i in (1, 2, 3)],
            "set map /s/health.map edge_0 /healthz",
        ],
        (0, 1, 0),
        id="another readiness path and port",
    ),
    pytest.param(
        [ROUTE],
        replace(
            HELD,
            servers={
                "edge_0": {
                    "10.250.0.1:8080": up("10.250.0.1:8080", maint=True),
                    "10.250.0.2:8080": up("10.250.0.2:8080"),
                    "10.250.0.3:8080": up("10.250.0.3:8080", 2),
                }
            },
        ),
        ["set server edge_0/10.250.0.1:8080 state ready"],
        (0, 1, 0),
        id="an instance in maintenance that is wanted again",
    ),
    pytest.param(
        [],
        HELD,
        [
            f"del map /s/hosts.map {HOST}",  # the host first: no request reaches a deleted server
            *[
                c
                for i in (1, 2, 3)
                for c in (f"set server edge_0/10.250.0.{i}:8080 state maint", f"del server edge_0/10.250.0.{i}:8080")
            ],
        ],
        (0, 0, 1),
        id="a group off the edge",
    ),
    pytest.param(
        [EdgeRoute(GroupPath("shop", "api", "prod"), OTHER, (), None)],
        replace(HELD, hosts={HOST: "edge_0", "gone.example": "edge_1"}),
        [
            "del map /s/hosts.map gone.example",
            f"del map /s/hosts.map {HOST}",
            *[
                c
                for i in (1, 2, 3)
                for c in (f"set server edge_0/10.250.0.{i}:8080 state maint", f"del server edge_0/10.250.0.{i}:8080")
            ],
            f"add map /s/hosts.map {OTHER} edge_2",  # the free backend; no server: a 503
        ],
        (1, 0, 2),
        id="one group goes, one with no instance comes: a free backend, never one just let go",
    ),
]


@pytest.mark.parametrize(("routes", "held", "commands", "counts"), PLANS)
def test_plan(routes: list[EdgeRoute], held: Held, commands: list[str], counts: tuple[int, int, int]) -> None:
    made = plan(routes, held, **MAPS)
    assert list(made.commands) == commands
    assert (made.added, made.changed, made.removed) == counts


def test_plan_refuses_a_new_host_when_the_pool_is_used_up() -> None:
    with pytest.raises(EdgeError, match="every one of the edge's 1 backends is in use"):
        plan([ROUTE, replace(ROUTE, host=OTHER)], Held({}, {}, ("edge_0",)), **MAPS)


SHOW_MAPS = (
    "# id (file) description\n"
    "0 (/s/hosts.map) pattern loaded from file '/s/hosts.map' used by map at file '/s/haproxy.cfg' line 25. "
    "curr_ver=0 next_ver=0 entry_cnt=1\n"
    "4 (/s/health.map) pattern loaded from file '/s/health.map' used by map at file '/s/haproxy.cfg' line 41. "
    "curr_ver=0 next_ver=0 entry_cnt=1\n"
)
SHOW_SERVERS = (
    "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight "
    "srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state "
    "srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port "
    "srv_check_addr srv_agent_addr srv_agent_port\n"
)
SHOW_SERVERS += """4 edge_0 2 10.250.0.2:8080 10.250.0.2 2 0 100 100 69 15 3 4 6 0 0 0 - 8080 - 0 8081 - - 0
4 edge_0 1 10.250.0.1:8080 10.250.0.1 0 1 1 1 0 1 0 0 2 0 0 0 - 8080 - 0 8080 - - 0
5 other 1 web 10.0.0.1 2 0 1 1 0 1 0 0 6 0 0 0 - 80 - 0 80 - - 0
"""


def test_parsers_read_what_haproxy_answers() -> None:
    assert parse_maps(SHOW_MAPS) == {"hosts.map": "/s/hosts.map", "health.map": "/s/health.map"}
    assert parse_map(f"0x55d369b7e480 {HOST} edge_0\n0x55d369b7e4c0 {HOST} edge_3\n") == {HOST: "edge_0"}
    assert parse_backends("# name\nedge_10\nedge_2\nedge_x\nstats\n") == ("edge_2", "edge_10")
    assert parse_servers(SHOW_SERVERS, ["edge_0"]) == {
        "edge_0": {
            "10.250.0.2:8080": Server("10.250.0.2:8080", 100, False, True, 8081),
            "10.250.0.1:8080": Server("10.250.0.1:8080", 1, True, False, 8080),
        }
    }


# --- a sync against a fake runtime API --------------------------------------------------------------


@dataclass
class FakeRuntime:
    """HAProxy's runtime API as far as the adapter uses it: maps, a pool of backends, dynamic servers."""

    hosts: dict[str, str] = field(default_factory=dict)
    health: dict[str, str] = field(default_factory=dict)
    servers: dict[str, dict[str, Server]] = field(default_factory=lambda: {b: {} for b in POOL})
    commands: list[str] = field(default_factory=list)
    busy: set[str] = field(default_factory=set)  # servers with connections attached

    def answer(self, line: str) -> str:
        self.commands.append(line)
        words = line.split()
        if words[0] == "show":
            return self._show(words)
        if words[1] == "map":
            return self._map(words)
        return self._server(words)

    def _maps(self) -> dict[str, dict[str, str]]:
        return {"/s/hosts.map": self.hosts, "/s/health.map": self.health}

    def _show(self, words: list[str]) -> str:
        if words[1:] == ["map"]:
            return SHOW_MAPS
        if words[1:] == ["backend"]:
            return "# name\n" + "".join(f"{b}\n" for b in POOL)
        if words[1] == "map":
            return "".join(f"0x1 {k} {v}\n" for k, v in self._maps()[words[2]].items())
        rows = [
            f"1 {b} 1 {n} {s.address.split(':')[0]} 2 {int(s.maint)} {s.weight} {s.weight} 0 1 0 0 "
            f"{6 if s.checked else 2} 0 0 0 - {s.address.split(':')[1]} - 0 {s.check_port} - - 0"
            for b, servers in self.servers.items()
            for n, s in servers.items()
        ]
        return "1\n# be_id be_name ...\n" + "".join(r + "\n" for r in rows)

    def _map(self, words: list[str]) -> str:
        entries = self._maps()[words[2]]
        if words[0] == "del":
            return "" if entries.pop(words[3], None) else "Key not found.\n"
        entries[words[3]] = words[4]
        return ""

    def _server(self, words: list[str]) -> str:
        backend, _, name = words[2].partition("/")
        servers = self.servers[backend]
        if words[:2] == ["add", "server"]:
            servers[name] = Server(words[3], int(words[5]), True, True, int(words[8]))
            return "New server registered.\n"
        if name not in servers:
            return "No such server.\n"
        if words[:2] == ["del", "server"]:
            if name in self.busy:
                return "Server still has connections attached to it, cannot remove it.\n"
            del servers[name]
            return "Server deleted.\n"
        server = servers[name]
        if words[0] in ("enable", "disable"):
            key = "checked" if words[1] == "health" else "maint"
            servers[name] = replace(server, **{key: (words[0] == "enable") == (key == "checked")})
        else:
            what, value = words[3], words[4]
            if what == "state":
                servers[name] = replace(server, maint=value == "maint")
            else:
                servers[name] = replace(server, **{what.replace("-", "_"): int(value)})
        return ""

    def writes(self) -> list[str]:
        return [c for c in self.commands if not c.startswith("show")]


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[tuple[FakeRuntime, str]]:
    fake = FakeRuntime()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        line = (await reader.readline()).decode().strip()
        writer.write(fake.answer(line).encode())
        await writer.drain()
        writer.close()

    socket = str(tmp_path / "haproxy.sock")
    server = await asyncio.start_unix_server(serve, socket)
    yield fake, socket
    server.close()


async def test_a_sync_writes_only_what_differs_and_catches_up_with_a_restart(runtime: tuple[FakeRuntime, str]) -> None:
    fake, socket = runtime
    edge = HAProxyEdge(socket, verify_every=0.0)
    first = await edge.apply([ROUTE])
    assert first == EdgeWrite(added=1, full=True, commands=11)
    assert fake.hosts == {HOST: "edge_0"}
    assert fake.health == {"edge_0": "/ready"}
    assert all(not s.maint and s.checked for s in fake.servers["edge_0"].values())

    fake.commands.clear()
    assert await edge.apply([ROUTE]) == EdgeWrite()  # read back, nothing to write
    assert fake.writes() == []

    fake.busy.add("10.250.0.2:8080")
    fewer = replace(ROUTE, upstreams=(ROUTE.upstreams[0], ROUTE.upstreams[2]))
    assert (await edge.apply([fewer])).changed == 1  # in maintenance; its deletion waits
    assert fake.servers["edge_0"]["10.250.0.2:8080"].maint
    fake.busy.clear()
    fake.commands.clear()
    await edge.apply([fewer])
    assert fake.writes() == ["del server edge_0/10.250.0.2:8080"]

    restarted = FakeRuntime()  # a restarted HAProxy: empty maps, no servers
    fake.hosts, fake.health, fake.servers = restarted.hosts, restarted.health, restarted.servers
    again = await edge.apply([fewer])
    assert again.full
    assert again.added == 1
    assert set(fake.servers["edge_0"]) == {"10.250.0.1:8080", "10.250.0.3:8080"}


async def test_unchanged_routes_are_read_back_at_most_every_verify_every(runtime: tuple[FakeRuntime, str]) -> None:
    fake, socket = runtime
    edge = HAProxyEdge(socket, verify_every=60.0)
    await edge.apply([ROUTE])
    fake.commands.clear()
    assert await edge.apply([ROUTE]) == EdgeWrite()
    assert fake.commands == []


async def test_errors(runtime: tuple[FakeRuntime, str], tmp_path: Path) -> None:
    with pytest.raises(EdgeUnavailable, match="cannot be reached"):
        await HAProxyEdge(str(tmp_path / "nobody.sock")).apply([ROUTE])
    with pytest.raises(EdgeUnavailable, match="cannot be reached"):
        await HAProxyEdge("127.0.0.1:1").apply([ROUTE])

    fake, socket = runtime
    refusing = HAProxyEdge(socket)
    fake.servers["edge_0"]["10.250.0.1:8080"] = up("10.250.0.1:8080")
    fake.hosts[HOST], fake.health["edge_0"] = "edge_0", "/ready"
    original = fake.answer
    fake.answer = lambda line: (  # type: ignore[method-assign]
        "weight of server x is not within 0 and 256 (300).\n" if "weight" in line and "set" in line else original(line)
    )
    with pytest.raises(EdgeError, match=re.escape("refused 'set server edge_0/10.250.0.1:8080 weight 7'")) as raised:
        await refusing.apply([replace(ROUTE, upstreams=(Upstream(1, "10.250.0.1:8080", 7),))])
    assert not isinstance(raised.value, EdgeUnavailable)
