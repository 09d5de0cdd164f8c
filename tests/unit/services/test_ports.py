"""Use cases run against fakes of their ports, with no adapter: the seam of services/ports.py.

The fakes implement only what the use cases here call; anything else fails the test at once.
"""

from __future__ import annotations

import copy
import datetime as dt
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast

import pytest

from dockyard.domain.access import Principal
from dockyard.domain.capacity import NodeInfo
from dockyard.domain.clusters import Cluster
from dockyard.domain.errors import Conflict, Unavailable
from dockyard.domain.failures import ClusterConflict, ClusterNotFound, ClusterUnavailable, DatabaseConflict
from dockyard.domain.fit import PodList
from dockyard.domain.live import Capacity, Connection
from dockyard.domain.model import Application, AppPath, Dedication, Group, GroupPath, Operation, Version
from dockyard.domain.placement import DEDICATED_LABEL, POOL_LABEL
from dockyard.domain.versions import VersionSpec, parse_spec
from dockyard.services import deploys, pools, ports
from dockyard.services.platform import BuildConfig, Config, Platform

ADMIN = Principal("root", admin=True)
WEB = GroupPath("shop", "web", "prod")


class Unused:
    """A port the use case under test must not touch."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        raise AssertionError(f"the use case used {self._name}.{attr}")


@dataclass
class Store:
    """The rows of the fake database, shared by its units of work."""

    clusters: list[Cluster] = field(default_factory=list)
    applications: dict[AppPath, Application] = field(default_factory=dict)
    groups: dict[GroupPath, Group] = field(default_factory=dict)
    versions: dict[tuple[GroupPath, int], Version] = field(default_factory=dict)
    operations: list[Operation] = field(default_factory=list)
    dedications: dict[tuple[str, str], Dedication] = field(default_factory=dict)
    conflict: bool = False  # the next commit breaks a uniqueness rule


class FakeUnitOfWork:
    """The repositories the use cases here call, over one :class:`Store`."""

    def __init__(self, store: Store) -> None:
        self.clusters = _Clusters(store)
        self.applications = _Applications(store)
        self.groups = _Groups(store)
        self.versions = _Versions(store)
        self.operations = _Operations(store)
        self.placements = _Placements(store)
        self.releases = Unused("uow.releases")


@dataclass
class _Clusters:
    store: Store

    async def all(self) -> list[Cluster]:
        return list(self.store.clusters)


@dataclass
class _Applications:
    store: Store

    async def get(self, path: AppPath) -> Application | None:
        return self.store.applications.get(path)


@dataclass
class _Groups:
    store: Store

    async def get(self, path: GroupPath) -> Group | None:
        return self.store.groups.get(path)


@dataclass
class _Versions:
    store: Store

    async def get(self, path: GroupPath, number: int) -> Version | None:
        return self.store.versions.get((path, number))

    async def add(self, path: GroupPath, spec: VersionSpec, *, by: str, reason: str = "") -> Version:
        found = self.store.groups[path]
        number = found.latest_version + 1
        made = Version(path.system, path.app, path.group, number, spec, by, dt.datetime.now(dt.UTC), reason)
        self.store.versions[(path, number)] = made
        self.store.groups[path] = replace(found, latest_version=number)
        return made


@dataclass
class _Operations:
    store: Store

    async def active(self, group: GroupPath) -> Operation | None:
        return None

    async def add(self, operation: Operation) -> None:
        self.store.operations.append(operation)


@dataclass
class _Placements:
    store: Store

    async def dedication(self, cluster: str, pool: str) -> Dedication | None:
        return self.store.dedications.get((cluster, pool))

    async def dedicate(self, dedication: Dedication) -> None:
        self.store.dedications[(dedication.cluster, dedication.pool)] = dedication


class FakeDatabase:
    """Units of work over one :class:`Store`: a block that raises leaves the store as it was."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[ports.UnitOfWork]:
        before = replace(
            self.store,
            groups=dict(self.store.groups),
            versions=dict(self.store.versions),
            operations=list(self.store.operations),
            dedications=dict(self.store.dedications),
        )
        try:
            yield cast(ports.UnitOfWork, FakeUnitOfWork(self.store))
            if self.store.conflict:
                raise DatabaseConflict("the change conflicts with existing data (IntegrityError)")
        except BaseException:
            self.store.__dict__.update(before.__dict__)
            raise

    async def ping(self) -> str:
        return "fake"


@dataclass
class FakeCluster:
    """A cluster's nodes as JSON; ``refuse`` is raised by the next ``replace`` calls, one each."""

    nodes: dict[str, dict[str, Any]]
    refuse: list[Exception] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)

    async def get(self, api_version: str, kind: str, name: str, *, namespace: str | None = None) -> dict[str, Any]:
        assert (api_version, kind) == ("v1", "Node")
        if name not in self.nodes:
            raise ClusterNotFound(f"nodes {name!r} not found", status=404, reason="NotFound")
        return copy.deepcopy(self.nodes[name])  # an answer is the caller's own to change

    async def replace(self, manifest: dict[str, Any]) -> dict[str, Any]:
        if self.refuse:
            raise self.refuse.pop(0)
        self.nodes[manifest["metadata"]["name"]] = manifest
        self.replaced.append(manifest["metadata"]["name"])
        return manifest


@dataclass
class FakeClusters:
    cluster: FakeCluster

    async def client(self, cluster: Cluster) -> ports.ClusterClient:
        return cast(ports.ClusterClient, self.cluster)


@dataclass
class FakeLive:
    nodes: list[NodeInfo]

    def capacity(self, cluster: str) -> Capacity:
        return Capacity(self.nodes, PodList([]), synced=True)

    def connection(self, cluster: str) -> Connection:
        return Connection(True, "")


def platform_of(store: Store, *, cluster: FakeCluster | None = None, nodes: list[NodeInfo] = ()) -> Platform:  # type: ignore[assignment]
    return Platform(
        db=FakeDatabase(store),
        clusters=cast(ports.ClusterClients, FakeClusters(cluster) if cluster else Unused("clusters")),
        live=cast(ports.LiveView, FakeLive(list(nodes))),
        box=cast(ports.SecretBox, Unused("box")),
        registries=cast(ports.Registries, Unused("registries")),
        builder=cast(ports.Builder, Unused("builder")),
        sources=cast(ports.Sources, Unused("sources")),
        config=Config(builds=BuildConfig(work_dir=Path("/nonexistent"))),
    )


def shop(instances: int) -> Store:
    spec = parse_spec({"image": "r.local/web:1", "flavor": "small", "instances": instances})
    store = Store(clusters=[Cluster("local", "sealed")])
    store.applications[WEB.app_path] = Application("shop", "web", "r.local/web")
    store.groups[WEB] = Group("shop", "web", "prod", "test", "local", current_version=1, latest_version=1)
    store.versions[(WEB, 1)] = Version("shop", "web", "prod", 1, spec, "root", dt.datetime.now(dt.UTC))
    return store


async def test_a_scale_in_records_a_version_and_a_pending_operation_through_the_ports() -> None:
    store = shop(instances=4)
    platform = platform_of(store)
    operation = await deploys.start_scale(platform, ADMIN, group=WEB, instances=2)
    assert (operation.action, operation.params.version, operation.params.instances) == ("scale", 2, 2)
    assert store.operations == [operation]
    assert store.versions[(WEB, 2)].spec.instances == 2
    assert store.versions[(WEB, 2)].reason == "scale from 4 to 2 instances"
    assert platform.operations_added.is_set()


async def test_a_database_conflict_reads_as_another_operation_in_progress_and_writes_nothing() -> None:
    store = shop(instances=4)
    store.conflict = True
    with pytest.raises(Conflict, match="another operation on group shop/web/prod is in progress"):
        await deploys.start_scale(platform_of(store), ADMIN, group=WEB, instances=2)
    assert store.operations == []
    assert (WEB, 2) not in store.versions


def node(name: str, pool: str) -> NodeInfo:
    return NodeInfo(name, ((POOL_LABEL, pool),), (), False, True, 4000, 8 << 30, 110)


def node_json(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": {}}, "spec": {}}


async def test_dedicating_a_pool_marks_its_nodes_retrying_a_write_that_lost_a_race() -> None:
    cluster = FakeCluster(
        {n: node_json(n) for n in ("a1", "a2", "b1")},
        refuse=[ClusterConflict("the object has been modified", status=409, reason="Conflict")],
    )
    store = shop(instances=1)
    platform = platform_of(store, cluster=cluster, nodes=[node("a1", "gpu"), node("a2", "gpu"), node("b1", "cpu")])
    made = await pools.dedicate(platform, ADMIN, cluster="local", pool="gpu", system="shop", app="web")
    assert store.dedications[("local", "gpu")] == made
    assert cluster.replaced == ["a1", "a2"]  # a1 again after its first write lost the race
    for name in ("a1", "a2"):
        assert cluster.nodes[name]["metadata"]["labels"] == {DEDICATED_LABEL: "shop.web"}
        assert cluster.nodes[name]["spec"]["taints"] == [
            {"key": DEDICATED_LABEL, "value": "shop.web", "effect": "NoSchedule"}
        ]
    assert cluster.nodes["b1"]["metadata"]["labels"] == {}


async def test_a_cluster_away_while_marking_reads_as_unavailable() -> None:
    cluster = FakeCluster({"a1": node_json("a1")}, refuse=[ClusterUnavailable("GET /api/v1/nodes/a1: timed out")])
    platform = platform_of(shop(instances=1), cluster=cluster, nodes=[node("a1", "gpu")])
    with pytest.raises(Unavailable, match=r"cluster 'local' did not take the nodes' taints: .*timed out"):
        await pools.dedicate(platform, ADMIN, cluster="local", pool="gpu", system="shop", app="web")


def test_services_load_without_any_adapter_nor_the_settings() -> None:
    """What the import contracts promise, checked in a fresh interpreter: every service module
    imports, and no adapter, database or Kubernetes library, nor the settings, comes with them."""
    code = (
        "import importlib, pkgutil, sys, dockyard.services as s\n"
        "for m in pkgutil.iter_modules(s.__path__): importlib.import_module('dockyard.services.' + m.name)\n"
        "print(sorted(m for m in sys.modules if m.startswith(("
        "'dockyard.adapters', 'dockyard.settings', 'sqlalchemy', 'alembic', 'lightkube', 'httpx'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
