"""Integration fixtures: one real sandbox cluster per test run, a real database per test.

The sandbox (20 KWOK nodes on free loopback ports; the many-cluster tests start a second one of 6) and
the PostgreSQL server live under ``$DOCKYARD_TEST_RUN_DIR`` (set by scripts/test, whose exit trap stops
them even if pytest is killed); each test works in namespaces of its own.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from dockyard.adapters.kube.client import KubeCluster
from dockyard.sandbox import cluster
from dockyard.sandbox.base_image import base_image, registry_address
from dockyard.sandbox.layout import Layout, Ports
from dockyard.sandbox.topology import default_topology
from tests.integration import postgres

SANDBOX_NODES = 20


def _run_dir() -> Path:
    given = os.environ.get("DOCKYARD_TEST_RUN_DIR")
    return Path(given) if given else Path(tempfile.mkdtemp(prefix="dockyard-test-"))


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class Sandbox:
    layout: Layout
    ports: Ports

    @property
    def kubeconfig(self) -> Path:
        return self.layout.kubeconfig

    @property
    def registry(self) -> str:
        """The sandbox registry's ``host:port`` (plain HTTP on loopback)."""
        return registry_address(self.ports)

    @property
    def base_image(self) -> str:
        """The busybox base image in the sandbox registry, for test Dockerfiles' FROM."""
        return base_image(self.ports)


@pytest.fixture(scope="session")
def run_dir() -> Iterator[Path]:
    # SIGTERM (CI's timeout, `kill`) should tear fixtures down like Ctrl-C does.
    previous = signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    path = _run_dir()
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o755)  # the PostgreSQL server runs as user postgres and must reach its directory
    yield path
    signal.signal(signal.SIGTERM, previous)


@pytest.fixture(scope="session")
def sandbox(run_dir: Path) -> Iterator[Sandbox]:
    layout = Layout(run_dir / "sandbox")
    ports = Ports.pick_free()
    try:
        cluster.up(layout, ports=ports, topology=default_topology(SANDBOX_NODES))
        yield Sandbox(layout=layout, ports=ports)
    finally:
        cluster.down(layout)
        shutil.rmtree(layout.root, ignore_errors=True)


SECOND_SANDBOX_NODES = 6


@pytest.fixture(scope="session")
def second_sandbox(run_dir: Path) -> Iterator[Sandbox]:
    """A second, small cluster (6 KWOK nodes, one IDC ``idc-b``) with its own control plane and ports,
    for the many-cluster tests only: started the first time one of them asks for it."""
    layout = Layout(run_dir / "sandbox-b")
    ports = Ports.pick_free()
    try:
        cluster.up(
            layout, ports=ports, topology=default_topology(SECOND_SANDBOX_NODES, idc="idc-b"), labels={"idc": "b"}
        )
        yield Sandbox(layout=layout, ports=ports)
    finally:
        cluster.down(layout)
        shutil.rmtree(layout.root, ignore_errors=True)


@pytest.fixture
async def kube(sandbox: Sandbox) -> AsyncIterator[KubeCluster]:
    async with KubeCluster(sandbox.kubeconfig, timeout=30.0) as client:
        yield client


@pytest.fixture
async def namespace(kube: KubeCluster) -> AsyncIterator[str]:
    """A namespace of the test's own, deleted afterwards."""
    name = f"t-{uuid.uuid4().hex[:10]}"
    await kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    yield name
    await kube.delete("v1", "Namespace", name)


@pytest.fixture(scope="session")
def postgres_server(run_dir: Path) -> Iterator[str]:
    root = run_dir / "postgres"
    try:
        url = postgres.start(root, free_port())
    except postgres.PostgresUnavailable as e:
        if os.environ.get("DOCKYARD_TEST_SKIP_POSTGRES") == "1":
            pytest.skip(str(e))
        raise
    yield url
    postgres.stop(root)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database on each backend: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'dockyard.db'}"
        return
    server: str = request.getfixturevalue("postgres_server")
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin_dsn = server.replace("postgresql+asyncpg://", "postgresql://")
    asyncio.run(_pg_execute(admin_dsn, f'CREATE DATABASE "{name}"'))
    yield server.rsplit("/", 1)[0] + f"/{name}"
    asyncio.run(_pg_execute(admin_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _pg_execute(dsn: str, sql: str) -> Any:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.execute(sql)
    finally:
        await conn.close()
