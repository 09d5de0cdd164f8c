"""The edge load balancer: HAProxy (Debian's 2.6), configured only through its runtime API (the stats
socket): never a file rewrite, never a reload, so no connection of a client is ever closed by a change.

What Dockyard owns in HAProxy (the start-up configuration is ``sandbox/edge.py``'s; another one needs
the same shape, see docs/edge.md):

- the **hosts map** (a map file named ``hosts.map``, empty at start): a group's global name → the
  backend serving it; the frontend routes by it (Host lower-cased, port dropped), an unknown host is a
  404. Entries are changed with ``add map`` / ``del map``;
- a **pool of backends** ``edge_<n>`` (pre-allocated in the configuration, no server at start): a
  group with an entry takes a free one; its instances are **dynamic servers** named by their address
  (``add server edge_3/10.250.0.7:8080 10.250.0.7:8080 weight W check port P inter 1s fall 2 rise 2``,
  then ``enable health`` or ``disable health``, then ``enable server``: a dynamic server starts in
  maintenance), their weights set with ``set server … weight``, a gone instance put in maintenance at
  once — after the new servers are in, so a backend never has none — (no new request; those in flight
  end) and deleted with ``del server``; when HAProxy refuses because connections are still attached,
  the deletion is retried at the next sync;
- the **health map** (``health.map``): backend → the readiness path its checks GET (``http-check send
  … uri-lf %[be_name,map(health.map,/)]``), on each server's ``check port``.

Weights: HAProxy's are 0–256; the domain's (exact ratios) are scaled down proportionally when larger
(:func:`haproxy_weights`).

Contract of :meth:`HAProxyEdge.apply`: idempotent, and only the runtime commands that change something
are sent. Each sync whose routes differ from the last ones (and at least every ``verify_every``
seconds otherwise) reads back what HAProxy holds (``show map``, ``show backend``, ``show servers
state``) and sends the difference (:func:`plan`), so a restarted HAProxy (empty maps, no servers) or
another replica's writes are caught up with the same way as a route change. New servers are added
and enabled before their host's map entry is added; a host's map entry is deleted before its servers.

Errors (each also the domain's failure of the same name)::

    EdgeError            HAProxy refused a command (the message has its answer), has no hosts map,
    │                    health map or ``edge_`` backends, or every backend of the pool is in use
    └── EdgeUnavailable  the runtime API cannot be reached or did not answer in time
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from dockyard.domain import failures
from dockyard.domain.edge import EdgeRoute, EdgeWrite, Upstream

BACKEND_PREFIX = "edge_"
HOSTS_MAP = "hosts.map"
HEALTH_MAP = "health.map"
MAX_WEIGHT = 256  # HAProxy's largest server weight
CHECK = "inter 1s fall 2 rise 2"  # checks every second; 2 failures down, 2 successes up
CHECK_ENABLED = 0x4  # srv_check_state's bit for "health checks running" (CHK_ST_ENABLED)
ADMIN_MAINT = 0x1  # srv_admin_state's bit for "forced into maintenance" (SRV_ADMF_FMAINT)
DELETE_LATER = ("still has connections", "queue")  # `del server` refused for now: tried again next sync
ADDED = "New server registered."
DELETED = "Server deleted."


class EdgeError(failures.EdgeFailure):
    pass


class EdgeUnavailable(EdgeError, failures.EdgeUnavailable):
    pass


@dataclass(frozen=True)
class Server:
    """A server of a backend as HAProxy holds it (or should): its address (``ip:port``, also its name),
    weight, whether it is in maintenance, whether its health checks run, and on which port."""

    address: str
    weight: int
    maint: bool = False
    checked: bool = False
    check_port: int = 0


@dataclass(frozen=True)
class Held:
    """What HAProxy holds: the hosts map (host → backend), the health map (backend → path), the pool's
    backends in order, each backend's servers by name, and the hosts the hosts map holds more than
    once with different backends (two replicas adding the same new group at once)."""

    hosts: Mapping[str, str]
    health: Mapping[str, str]
    backends: tuple[str, ...]
    servers: Mapping[str, Mapping[str, Server]] = field(default_factory=dict)
    doubled: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Plan:
    """The runtime commands that make HAProxy hold the wanted routes, in order, and what they do."""

    commands: tuple[str, ...]
    added: int = 0  # hosts given a backend
    changed: int = 0  # hosts whose servers or health changed
    removed: int = 0  # hosts taken off


def haproxy_weights(upstreams: Sequence[Upstream]) -> tuple[int, ...]:
    """The upstreams' weights within HAProxy's 1–256: as they are when they fit, else scaled down in
    proportion (rounded, never below 1)."""
    weights = [u.weight for u in upstreams]
    top = max(weights, default=0)
    if top <= MAX_WEIGHT:
        return tuple(weights)
    return tuple(max(1, round(w * MAX_WEIGHT / top)) for w in weights)


def wanted_servers(route: EdgeRoute) -> dict[str, Server]:
    """The servers a route's backend should hold, by name (the address)."""
    checked = route.health is not None
    return {
        u.address: Server(u.address, w, False, checked, route.health.port if route.health is not None else 0)
        for u, w in zip(route.upstreams, haproxy_weights(route.upstreams), strict=True)
    }


def plan(routes: Iterable[EdgeRoute], held: Held, *, hosts_map: str, health_map: str) -> Plan:
    """The commands from what HAProxy ``held`` to ``routes`` (pure; see the module docstring).
    :class:`EdgeError` when a new host finds no free backend."""
    wanted = {r.host: r for r in routes}
    commands: list[str] = []
    slot_of = {h: b for h, b in held.hosts.items() if h in wanted and b in held.backends}
    used = set(slot_of.values())
    free = [b for b in held.backends if b not in used and b not in held.hosts.values()]
    free.sort(key=lambda b: bool(held.servers.get(b)))  # empty backends first
    added = changed = removed = 0

    for host, backend in sorted(held.hosts.items()):  # hosts going (or mapped twice, or to a stranger)
        if slot_of.get(host) != backend:
            commands.append(f"del map {hosts_map} {host}")
            removed += host not in wanted
    for host in sorted(wanted):
        if host not in slot_of:
            if not free:
                raise EdgeError(
                    f"every one of the edge's {len(held.backends)} backends is in use: no backend for {host}"
                )
            slot_of[host] = free.pop(0)
    route_of = {b: wanted[h] for h, b in slot_of.items()}

    for backend in held.backends:
        route = route_of.get(backend)
        want = wanted_servers(route) if route is not None else {}
        before = len(commands)
        commands += _server_commands(backend, held.servers.get(backend, {}), want)
        if route is not None and route.health is not None and held.health.get(backend) != route.health.path:
            verb = "set" if backend in held.health else "add"
            commands.append(f"{verb} map {health_map} {backend} {route.health.path}")
        if route is None:
            continue
        if route.host not in held.hosts or held.hosts[route.host] != backend:
            commands.append(f"add map {hosts_map} {route.host} {backend}")
            added += 1
        elif route.host in held.doubled:  # every entry of the host to the backend kept
            commands.append(f"set map {hosts_map} {route.host} {backend}")
            changed += 1
        elif len(commands) > before:
            changed += 1
    return Plan(tuple(commands), added=added, changed=changed, removed=removed)


def _server_commands(backend: str, held: Mapping[str, Server], wanted: Mapping[str, Server]) -> list[str]:
    """New servers and changes first, servers going last: a backend whose instances are all replaced
    never has none in between (a 503)."""
    commands: list[str] = []
    for name, want in sorted(wanted.items()):
        path = f"{backend}/{name}"
        has = held.get(name)
        if has is None:
            port = want.check_port or int(want.address.rsplit(":", 1)[1])
            commands.append(f"add server {path} {want.address} weight {want.weight} check port {port} {CHECK}")
            commands.append(f"{'enable' if want.checked else 'disable'} health {path}")
            commands.append(f"enable server {path}")
            continue
        if want.checked and not has.checked:
            commands.append(f"enable health {path}")
        if want.checked and has.check_port != want.check_port:
            commands.append(f"set server {path} check-port {want.check_port}")
        if not want.checked and has.checked:
            commands.append(f"disable health {path}")
        if has.weight != want.weight:
            commands.append(f"set server {path} weight {want.weight}")
        if has.maint:
            commands.append(f"set server {path} state ready")
    for name, server in sorted(held.items()):
        if name not in wanted:
            if not server.maint:
                commands.append(f"set server {backend}/{name} state maint")
            commands.append(f"del server {backend}/{name}")
    return commands


# --- reading what HAProxy holds ----------------------------------------------------------------------


def parse_maps(text: str) -> dict[str, str]:
    """``show map``'s list: map file name → the path HAProxy knows it by, for :data:`HOSTS_MAP` and
    :data:`HEALTH_MAP`."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("#") or "(" not in line:
            continue
        path = line.split("(", 1)[1].split(")", 1)[0]
        name = path.rsplit("/", 1)[-1]
        if name in (HOSTS_MAP, HEALTH_MAP):
            found.setdefault(name, path)
    return found


def parse_map(text: str) -> dict[str, str]:
    """``show map <map>``'s entries (``<ref> <key> <value>`` lines): key → value (the first of a key
    held twice)."""
    entries: dict[str, str] = {}
    for key, value in map_entries(text):
        entries.setdefault(key, value)
    return entries


def map_entries(text: str) -> list[tuple[str, str]]:
    """``show map <map>``'s entries in order, a key held twice twice."""
    entries = []
    for line in text.splitlines():
        parts = line.split(" ", 2)
        if len(parts) == 3 and parts[0].startswith("0x"):
            entries.append((parts[1], parts[2]))
    return entries


def parse_backends(text: str) -> tuple[str, ...]:
    """``show backend``'s names of the pool (``edge_<n>``), in order of their number."""
    names = [n.strip() for n in text.splitlines() if n.strip().startswith(BACKEND_PREFIX)]
    pool = [n for n in names if n[len(BACKEND_PREFIX) :].isdigit()]
    return tuple(sorted(pool, key=lambda n: int(n[len(BACKEND_PREFIX) :])))


def parse_servers(text: str, backends: Iterable[str]) -> dict[str, dict[str, Server]]:
    """``show servers state``'s servers of ``backends`` (version 1 lines: be_id be_name srv_id srv_name
    srv_addr srv_op_state srv_admin_state srv_uweight … srv_check_state … srv_port … srv_check_port)."""
    pool = set(backends)
    servers: dict[str, dict[str, Server]] = {}
    for line in text.splitlines():
        f = line.split()
        if len(f) < 22 or line.startswith("#") or f[1] not in pool:
            continue
        servers.setdefault(f[1], {})[f[3]] = Server(
            address=f"{f[4]}:{f[18]}",
            weight=int(f[7]),
            maint=bool(int(f[6]) & ADMIN_MAINT),
            checked=bool(int(f[13]) & CHECK_ENABLED),
            check_port=int(f[21]),
        )
    return servers


# --- the runtime API ------------------------------------------------------------------------------------


class HAProxyEdge:
    """HAProxy's runtime API at ``runtime`` (a unix socket path, or ``host:port`` of a TCP stats
    socket) at level admin. Used by one sync loop at a time (calls are serialised)."""

    def __init__(self, runtime: str, *, timeout: float = 5.0, verify_every: float = 1.0) -> None:
        self._runtime = runtime
        self._timeout = timeout
        self._verify_every = verify_every
        self._last: tuple[EdgeRoute, ...] | None = None  # the routes of the last apply that wrote all
        self._hosts: set[str] = set()  # the hosts this adapter last left in the hosts map
        self._checked = float("-inf")
        self._lock = asyncio.Lock()
        self.sent = 0  # write commands sent, in all (benchmarks and tests read it)

    async def apply(self, routes: Sequence[EdgeRoute]) -> EdgeWrite:
        """Make HAProxy hold exactly ``routes`` (one per group); see the module docstring."""
        async with self._lock:
            ordered = tuple(sorted(routes, key=lambda r: r.host))
            now = time.monotonic()
            if ordered == self._last and now - self._checked < self._verify_every:
                return EdgeWrite()
            maps, held = await self.read()
            self._checked = now
            lost = self._last is None or not self._hosts <= set(held.hosts)
            todo = plan(ordered, held, hosts_map=maps[HOSTS_MAP], health_map=maps[HEALTH_MAP])
            for command in todo.commands:
                await self._write(command)
            self._last, self._hosts = ordered, {r.host for r in ordered}
            if not todo.commands:
                return EdgeWrite()
            full = lost and bool(self._hosts)
            return EdgeWrite(
                added=todo.added, changed=todo.changed, removed=todo.removed, full=full, commands=len(todo.commands)
            )

    async def read(self) -> tuple[dict[str, str], Held]:
        """The maps' paths and what HAProxy holds now."""
        maps = parse_maps(await self.command("show map"))
        for name in (HOSTS_MAP, HEALTH_MAP):
            if name not in maps:
                raise EdgeError(f"the edge load balancer has no map file named {name} for Dockyard's routes")
        backends = parse_backends(await self.command("show backend"))
        if not backends:
            raise EdgeError(f"the edge load balancer has no {BACKEND_PREFIX}<n> backends for Dockyard's routes")
        entries = map_entries(await self.command(f"show map {maps[HOSTS_MAP]}"))
        hosts = dict(reversed(entries))  # the first entry of a key
        doubled = frozenset(k for k, v in entries if hosts[k] != v)
        health = parse_map(await self.command(f"show map {maps[HEALTH_MAP]}"))
        servers = parse_servers(await self.command("show servers state"), backends)
        return maps, Held(hosts, health, backends, servers, doubled)

    async def aclose(self) -> None:
        """Nothing held between calls (a connection per command)."""

    async def _write(self, command: str) -> None:
        answer = (await self.command(command)).strip()
        self.sent += 1
        if command.startswith("del server") and any(m in answer for m in DELETE_LATER):
            return  # still draining: the next sync tries again
        if answer and answer not in (ADDED, DELETED):
            raise EdgeError(f"the edge load balancer refused {command!r}: {answer[:300]}")

    async def command(self, command: str) -> str:
        """One runtime API command's answer (a connection of its own, closed by HAProxy after it)."""
        try:
            async with asyncio.timeout(self._timeout):
                if self._runtime.startswith("/"):
                    reader, writer = await asyncio.open_unix_connection(self._runtime)
                else:
                    host, _, port = self._runtime.rpartition(":")
                    reader, writer = await asyncio.open_connection(host, int(port))
                try:
                    writer.write(command.encode() + b"\n")
                    await writer.drain()
                    answer = await reader.read()
                finally:
                    writer.close()
        except (OSError, TimeoutError, ValueError) as e:
            raise EdgeUnavailable(f"the edge load balancer's runtime API cannot be reached: {e!r}") from e
        return answer.decode(errors="replace")
