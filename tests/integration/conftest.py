"""Integration fixtures: one real sandbox cluster per test run, a real database per test.

The sandbox (20 KWOK nodes on free loopback ports; the many-cluster tests start a second one of 6) and
the PostgreSQL server live under ``$DOCKYARD_TEST_RUN_DIR`` (set by scripts/test, whose exit trap stops
them even if pytest is killed); each test works in namespaces of its own. Helpers are in
``tests/integration/harness``.

Which database: a test that takes ``database_url`` gets a fresh SQLite database, its id ending in
``[sqlite]``. A test whose *subject is the database* is marked ``@pytest.mark.both_databases`` and runs
twice, ``[sqlite]`` and ``[postgresql]`` — what could differ between the two engines:

- the schema the migrations build (test_migrations);
- transactions, constraints and locks under concurrency: two deploys at once and the 409, version
  numbers, the audit chain's appends, leases between executors and build runners;
- what is stored and read back, raw or across processes: the audit chain and its verification,
  sealed values (the canary in every table, sealed kubeconfigs), identity (sessions, refresh tokens,
  throttling that survives a restart), operations and releases resumed by another process after kill -9;
- every route's queries once: the permission matrix calls every endpoint.

Everything whose subject is the cluster (deploys, releases, placement, caches, drift, tenancy, the
CLI, builds, several clusters) runs once, on SQLite. PostgreSQL is started only when a test asks for it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from dockyard.adapters.kube.client import KubeCluster
from dockyard.sandbox import cluster
from dockyard.sandbox.layout import Layout, Ports
from dockyard.sandbox.topology import default_topology
from tests.integration.harness import postgres
from tests.integration.harness.client import Api, create_group, register_cluster
from tests.integration.harness.realnodes import RealNodes, web_image
from tests.integration.harness.sandboxes import SANDBOX_NODES, SECOND_SANDBOX_NODES, Sandbox, free_port
from tests.integration.harness.servers import NO_SOURCES, InProcess, in_process, settings
from tests.integration.harness.tokens import ADMIN

DATABASES = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``database_url``: SQLite, or each database for tests marked ``both_databases``."""
    if "database_url" in metafunc.fixturenames:
        both = metafunc.definition.get_closest_marker("both_databases") is not None
        metafunc.parametrize("database_url", DATABASES if both else DATABASES[:1], indirect=True)


def _run_dir() -> Path:
    given = os.environ.get("DOCKYARD_TEST_RUN_DIR")
    return Path(given) if given else Path(tempfile.mkdtemp(prefix="dockyard-test-"))


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


@pytest.fixture
def real_nodes(sandbox: Sandbox) -> RealNodes:
    """One real node (kubelet + containerd + kube-proxy) in the main sandbox, started the first time a
    test asks for it (tests that do not ask never pay for it) and checked (``up`` is idempotent: a
    second or so) for every later one; the sandbox's teardown (``down``) stops it and puts the host
    back. Fails, saying why, where the machine cannot run one (not root, a package missing) or
    another sandbox on the machine already runs real nodes."""
    result = cluster.up(sandbox.layout, ports=sandbox.ports, real_nodes=1)
    names = result.real_nodes
    assert names, "the sandbox started no real node"
    pool = names[0].rsplit("-", 1)[0]
    return RealNodes(sandbox=sandbox, names=names, pool=pool, web_image=web_image(sandbox))


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


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or (``postgresql``, see the module's docstring) a new
    database on the run's PostgreSQL server."""
    if getattr(request, "param", "sqlite") == "sqlite":
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


@pytest.fixture
async def api(sandbox: Sandbox, database_url: str, kube: KubeCluster, tmp_path: Path) -> AsyncIterator[Api]:
    """A server in-process (executor and watch caches running) with cluster ``local`` = the sandbox
    (idc=local) and a system ``shop-<id>`` with application ``web`` and production group ``prod``; its
    namespace is deleted afterwards."""
    system = f"shop-{uuid.uuid4().hex[:8]}"
    async with in_process(settings(database_url, tmp_path), headers=ADMIN) as server:
        await register_cluster(server.http, sandbox, labels={"idc": "local"})
        await create_group(server.http, system, business_id="b-1")
        yield Api(server.http, server.platform, system)
    await kube.delete("v1", "Namespace", system)


@pytest.fixture
async def passive_server(sandbox: Sandbox, database_url: str, tmp_path: Path) -> AsyncIterator[InProcess]:
    """A server in-process that runs no operations and no builds (no executor: what is started stays
    pending) with cluster ``local`` = the sandbox; its client sends no credentials of its own (pass
    ``headers=ADMIN``). Builds may name sources under :data:`NO_SOURCES`, which is never cloned."""
    config = settings(database_url, tmp_path, executor=False, build_source_roots=[NO_SOURCES])
    async with in_process(config) as server:
        await register_cluster(server.http, sandbox, headers=ADMIN)
        yield server
