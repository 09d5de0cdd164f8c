"""The sandbox's edge load balancer: HAProxy (Debian's 2.6, ``/usr/sbin/haproxy``), started with a
fixed configuration that Dockyard then changes only through HAProxy's runtime API (never a file
rewrite, never a reload: ``adapters/edge/haproxy.py``).

The configuration written here (``haproxy.cfg`` in the sandbox directory) holds:

- the **runtime API** on a unix socket in the sandbox directory (:func:`runtime_socket`, mode 600,
  level admin): whoever reaches it can reconfigure HAProxy, so it is not on TCP at all;
- the frontend ``edge`` on ``127.0.0.1:<edge>`` (HTTP/1.1, keep-alive): the Host, lower-cased and
  without its port, looked up in ``hosts.map`` gives the backend; an unknown host is a 404;
- :data:`SLOTS` backends ``edge_0`` … (the pool the adapter gives groups from), each round-robin over
  the dynamic servers the adapter adds, ``option httpchk`` GETting the path ``health.map`` gives for
  the backend, a 503 with ``Retry-After: 1`` when no server is usable, and ``retries 3`` with
  ``option redispatch 1`` and ``retry-on conn-failure empty-response`` (GET and HEAD only) so a
  request whose instance refused or closed unanswered is sent to another;
- the frontend ``metrics`` on ``127.0.0.1:<edge_admin>``: HAProxy's Prometheus exporter at
  ``/metrics`` (per backend and per server: ``haproxy_server_http_responses_total`` is requests per
  instance), ``/ready`` for the sandbox's health probe.

``hosts.map`` and ``health.map`` are written empty at every start: a restarted HAProxy holds no route
and Dockyard's edge sync writes them all again (it reads back what HAProxy holds).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx

from dockyard.sandbox import processes
from dockyard.sandbox.errors import ComponentError
from dockyard.sandbox.layout import Layout, Ports

NAME = "haproxy"
BINARY = "/usr/sbin/haproxy"  # Debian's haproxy 2.6 (see scripts/setup)
SLOTS = 64  # backends in the pool: groups with an edge entry one HAProxy serves (each adds ~3 kB to /metrics)


def config_path(layout: Layout) -> Path:
    return layout.root / "haproxy.cfg"


def runtime_socket(layout: Layout) -> Path:
    """HAProxy's runtime API (DOCKYARD_EDGE_RUNTIME)."""
    return layout.root / "haproxy.sock"


def hosts_map(layout: Layout) -> Path:
    return layout.root / "hosts.map"


def health_map(layout: Layout) -> Path:
    return layout.root / "health.map"


def config(layout: Layout, ports: Ports, *, slots: int = SLOTS) -> str:
    """HAProxy's configuration for the sandbox in ``layout`` (see the module docstring)."""
    hosts, health = hosts_map(layout), health_map(layout)
    lines = [
        "global",
        f"    stats socket {runtime_socket(layout)} mode 600 level admin",
        "    stats timeout 10s",
        "    nbthread 1",
        "    log stderr format raw local0 warning",
        "",
        "defaults",
        "    mode http",
        "    log global",
        "    option dontlognull",
        "    timeout connect 2s",
        "    timeout client 120s",
        "    timeout server 60s",
        "    timeout http-keep-alive 120s",
        "    timeout http-request 10s",
        "    timeout queue 5s",
        "    timeout check 1s",
        "    retries 3",
        "    option redispatch 1",
        "",
        "frontend edge",
        f"    bind 127.0.0.1:{ports.edge}",
        "    http-request set-var(txn.host) req.hdr(host),field(1,:),lower",
        f"    http-request set-var(txn.backend) var(txn.host),map({hosts})",
        "    http-request return status 404 content-type text/plain "
        'string "no group answers to this host\\n" unless { var(txn.backend) -m found }',
        "    use_backend %[var(txn.backend)]",
        "",
        "frontend metrics",
        f"    bind 127.0.0.1:{ports.edge_admin}",
        '    http-request return status 200 content-type text/plain string "ok\\n" if { path /ready }',
        "    http-request use-service prometheus-exporter if { path /metrics }",
        '    http-request return status 404 content-type text/plain string "not found\\n"',
    ]
    # The pool's settings in a defaults section of their own: its check rules are shared by every
    # backend, so the health map has one reference (`show map` lists each map on one line, and a line
    # naming hundreds of references overflows the runtime API's buffer and is left out).
    lines += [
        "",
        "defaults pool",
        "    mode http",
        "    log global",
        "    option dontlognull",
        "    timeout connect 2s",
        "    timeout server 60s",
        "    timeout queue 5s",
        "    timeout check 1s",
        "    retries 3",
        "    option redispatch 1",
        "    balance roundrobin",
        "    retry-on conn-failure empty-response",
        "    option httpchk",
        f'    http-check send meth GET uri-lf "%[be_name,map({health},/)]"',
        "    http-check expect status 200-399",
    ]
    for slot in range(slots):
        lines += [
            "",
            f"backend edge_{slot} from pool",
            "    http-request disable-l7-retry unless METH_GET",
            "    http-request return status 503 content-type text/plain hdr Retry-After 1 "
            'string "no instance of this group is ready\\n" if { nbsrv eq 0 }',
        ]
    return "\n".join(lines) + "\n"


def check_installed(binary: str = BINARY) -> None:
    """:class:`ComponentError` saying how to install HAProxy when ``binary`` is missing."""
    if not os.access(binary, os.X_OK):
        raise ComponentError(
            f"{binary} is missing: install Debian's haproxy (apt-get install -y --no-install-recommends haproxy; "
            "scripts/setup does) and stop its service (service haproxy stop)"
        )


def argv(layout: Layout, haproxy: str = BINARY) -> list[str]:
    """HAProxy's command line, in the foreground (the config path names the sandbox directory: how its
    pid is recognised)."""
    return [haproxy, "-db", "-f", str(config_path(layout))]


def env() -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin"}


def write_config(layout: Layout, ports: Ports) -> None:
    """The configuration and both maps, empty (see the module docstring)."""
    config_path(layout).write_text(config(layout, ports))
    for path in (hosts_map(layout), health_map(layout)):
        path.write_text("")


def start_own(layout: Layout, ports: Ports, *, timeout: float = 30.0) -> None:
    """Start an HAProxy of one's own in ``layout`` (tests and benchmarks; the sandbox starts its own as
    a component) and wait for its exporter to answer; :class:`RuntimeError` if it does not."""
    write_config(layout, ports)
    processes.start(argv(layout), pid_file=layout.pid_file(NAME), log_file=layout.log(NAME), env=env())
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{ports.edge_admin}/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"haproxy did not start; see {layout.log(NAME)}")


def stop_own(layout: Layout) -> None:
    """Stop the HAProxy :func:`start_own` started in ``layout`` (by pid)."""
    processes.stop(layout.pid_file(NAME), marker=str(layout.root))
