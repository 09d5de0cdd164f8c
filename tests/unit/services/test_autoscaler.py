"""The autoscaler's turn for one group on fakes of its ports: it records an ``autoscale`` operation of
the running version (no new version) and an audit entry, freezes without data, never overtakes an
operation, gives a release under way its new total (one across clusters split as an operation splits
it; never beyond what fits), and a round skips groups whose lease it lacks."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, cast

import pytest

from dockyard.domain.audit import GENESIS, AuditEntry, Head
from dockyard.domain.errors import DoesNotFit
from dockyard.domain.failures import MetricsUnavailable
from dockyard.domain.live import PodRecord
from dockyard.domain.metrics import Series
from dockyard.domain.model import Group, GroupCluster, GroupPath, Operation, System, Version
from dockyard.domain.operations import AutoscaleParams, DeployParams, ReleaseParams, ScaleParams
from dockyard.domain.release import Release
from dockyard.domain.versions import parse_spec
from dockyard.services import autoscale, placement, rollouts
from dockyard.services.platform import AutoscaleConfig, BuildConfig, Config, Platform
from tests.unit.records import pod_record

PATH = GroupPath("shop", "web", "prod")
NOW = 100_000.0
SPEC = parse_spec(
    {
        "image": "r.local/shop/web:1",
        "flavor": "tiny",
        "instances": 2,
        "autoscale": {"min": 2, "max": 20, "signals": [{"signal": "requests", "baseline": 50}]},
    }
)
GROUP = Group("shop", "web", "prod", "prod", "a", 3, 3, (GroupCluster("a", 8, 3), GroupCluster("b", 4, 3)))


class FakeMetrics:
    def __init__(self, load: float | None) -> None:
        self.load = load
        self.queries: list[str] = []

    async def query_range(self, promql: str, *, start: float, end: float, step: float) -> list[Series]:
        self.queries.append(promql)
        if self.load is None:
            raise MetricsUnavailable("Prometheus at http://p cannot be reached")
        points = [(t, self.load) for t in range(int(start), int(end) + 1, int(step))]
        return [Series({}, [(float(t), v) for t, v in points])]


@dataclass
class Store:
    active: Operation | None = None
    release_total: int | None = None  # a release under way that takes a total (None: none)
    release_clusters: tuple[dict[str, Any], ...] = ()  # its clusters, when it goes cluster by cluster
    release_command: str = ""  # the command given to it, not yet taken
    operations: list[Operation] = field(default_factory=list)
    audited: list[Any] = field(default_factory=list)
    totals: list[tuple[str, int, str, dict[str, int] | None]] = field(default_factory=list)
    leases: dict[str, str] = field(default_factory=dict)
    history: list[Operation] = field(default_factory=list)  # the group's operations, newest first
    pods: dict[str, list[PodRecord]] = field(default_factory=dict)  # the watch caches' instances by cluster


class FakeDb:
    def __init__(self, store: Store) -> None:
        self.store = store

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[Any]:
        store = self.store

        class Operations:
            async def active(self, path: GroupPath) -> Operation | None:
                return store.active

            async def add(self, operation: Operation) -> None:
                store.operations.append(operation)

            async def history(self, path: GroupPath, *, limit: int = 100) -> list[Operation]:
                return store.history[:limit]

        class Releases:
            async def get(self, release_id: str) -> Release | None:
                if store.release_total is None:
                    return None
                return Release(
                    id=release_id,
                    system="shop",
                    app="web",
                    group="prod",
                    strategy="gray",
                    stable_version=3,
                    new_version=4,
                    total=store.release_total,
                    steps=("20%", "pause", "100%"),
                    step=1,
                    status="paused",
                    paused=False,
                    command=store.release_command,
                    pause_until=None,
                    ledger=(),
                    error="",
                    created_by="ann",
                    clusters=store.release_clusters,
                )

            async def set_total(
                self, release_id: str, total: int, *, by: str, clusters: Mapping[str, int] | None = None
            ) -> bool:
                store.totals.append((release_id, total, by, dict(clusters) if clusters is not None else None))
                return True

        class Groups:
            async def get(self, path: GroupPath) -> Group | None:
                return GROUP

            async def of_app(self, app: Any) -> list[Group]:
                return [GROUP]

        class Versions:
            async def get(self, path: GroupPath, number: int) -> Version:
                return Version("shop", "web", "prod", number, SPEC, "t", dt.datetime.now(dt.UTC))

        class Audit:
            async def lock_head(self) -> Head:
                return Head(0, GENESIS)

            async def append(self, entry: AuditEntry) -> None:
                store.audited.append(entry.record)

        class Leases:
            async def claim(self, name: str, holder: str, *, seconds: float) -> bool:
                return store.leases.setdefault(name, holder) == holder

        class Systems:
            async def all(self) -> list[System]:
                return [System("shop")]

        class Applications:
            async def of_system(self, system: str) -> list[Any]:
                return [type("A", (), {"path": PATH.app_path})()]

        class Uow:
            operations, releases, groups, versions, audit = Operations(), Releases(), Groups(), Versions(), Audit()
            leases, systems, applications = Leases(), Systems(), Applications()

        yield Uow()


class FakeLive:
    def __init__(self, store: Store) -> None:
        self.store = store

    def instances(self, cluster: str) -> list[PodRecord]:
        return self.store.pods.get(cluster, [])


def platform(store: Store, load: float | None) -> Platform:
    config = Config(builds=BuildConfig(work_dir=cast(Any, None)), autoscale=AutoscaleConfig(step=5.0))
    return cast(
        Platform,
        type(
            "P",
            (),
            {
                "db": FakeDb(store),
                "live": FakeLive(store),
                "metrics": FakeMetrics(load),
                "config": config,
                "operations_added": _Event(),
                "releases_steered": _Event(),
            },
        )(),
    )


class _Event:
    def set(self) -> None:
        pass


async def test_a_decision_records_an_autoscale_operation_of_the_running_version_and_an_audit_entry() -> None:
    store = Store()
    outcome = await autoscale.decide_and_act(platform(store, 100.0), GROUP, SPEC, now=NOW)
    assert outcome.decision is not None
    assert outcome.decision.desired == 2
    (op,) = store.operations
    assert (op.action, op.actor) == ("autoscale", "autoscaler")
    assert isinstance(op.params, AutoscaleParams)
    assert (op.params.version, op.params.instances, op.params.was) == (3, 2, 12)  # no new version
    assert "requests 100 requests/s vs 50 per instance" in op.params.why
    (record,) = store.audited
    assert (record.actor, record.action, record.changes) == (
        "autoscaler",
        "autoscale",
        {"instances": {"from": 12, "to": 2}},
    )


@pytest.mark.parametrize(
    ("pods", "finished", "action"),
    [
        # A group whose newest instance started 30 s ago (the rates then read a part of its load): held.
        ({"a": [pod_record(created=NOW - 300), pod_record(name="web-prod-2", created=NOW - 30)]}, None, "hold"),
        ({"b": [pod_record(created=NOW - 300), pod_record(name="web-prod-2", deleting=True)]}, None, "hold"),
        # Its last operation (one that removed instances) ended 30 s ago: held.
        ({"a": [pod_record(created=NOW - 300)]}, NOW - 30, "hold"),
        # Settled: one rate window (60 s) and a step (5 s) after the change, plus the window (300 s).
        ({"a": [pod_record(created=NOW - 365)], "b": [pod_record(name="web-prod-2", created=NOW - 400)]}, None, "down"),
        ({"a": [pod_record(created=NOW - 400), pod_record(namespace="other", created=NOW - 30)]}, NOW - 365, "down"),
    ],
)
async def test_no_change_until_the_rates_settle_on_the_instances_there(
    pods: dict[str, list[PodRecord]], finished: float | None, action: str
) -> None:
    done = Operation("op-1", "scale", "ann", "shop", "web", "prod", ScaleParams(3, instances=12), status="succeeded")
    if finished is not None:
        done = dataclasses.replace(done, finished_at=dt.datetime.fromtimestamp(finished, dt.UTC))
    store = Store(pods=pods, history=[done])
    outcome = await autoscale.decide_and_act(platform(store, 100.0), GROUP, SPEC, now=NOW)
    assert outcome.decision is not None
    assert outcome.decision.action == action, outcome.decision.reason
    assert len(store.operations) == (action == "down")
    if action == "hold":
        assert "held: the rates have measured the instances there now for" in outcome.decision.reason


@pytest.mark.parametrize("load", [None, 600.0])
async def test_no_data_freezes_and_steady_load_holds(load: float | None) -> None:
    store = Store()
    outcome = await autoscale.decide_and_act(platform(store, load), GROUP, SPEC, now=NOW)
    assert outcome.decision is not None
    assert outcome.decision.action == ("freeze" if load is None else "hold")
    assert store.operations == []
    assert store.audited == []


async def test_an_operation_under_way_is_never_overtaken() -> None:
    store = Store(active=Operation("op-1", "deploy", "ann", "shop", "web", "prod", ReleaseParams(3)))
    outcome = await autoscale.decide_and_act(platform(store, 100.0), GROUP, SPEC, now=NOW)
    assert outcome.decision is None
    assert "not overtaken" in outcome.note
    assert store.operations == []


@dataclass
class Placing:
    """A stand-in for the placement a release's new total is split and checked by: the split it
    gives, whether the new count fits, and what it was asked."""

    counts: dict[str, int]
    fits: bool = True
    asked: list[tuple[int, int]] = field(default_factory=list)  # (version, instances) planned
    checked: list[int] = field(default_factory=list)  # instances checked to fit

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        async def plan(
            platform: Any, uow: Any, found: Group, number: int, spec: Any, *, pin: bool
        ) -> placement.Planned:
            self.asked.append((number, spec.instances))
            return placement.Planned({}, dict(self.counts))

        def check_fits(platform: Any, planned: placement.Planned, number: int, spec: Any) -> None:
            self.checked.append(spec.instances)
            if not self.fits:
                raise DoesNotFit(f"{spec.instances} instances would not fit on cluster a", {})

        monkeypatch.setattr(placement, "plan", plan)
        monkeypatch.setattr(placement, "check_fits", check_fits)


async def test_a_release_under_way_takes_the_new_total(monkeypatch: pytest.MonkeyPatch) -> None:
    Placing({"a": 12}).install(monkeypatch)
    store = Store(active=Operation("rel-1", "release", "ann", "shop", "web", "prod", ReleaseParams(4)), release_total=2)
    outcome = await autoscale.decide_and_act(platform(store, 600.0), GROUP, SPEC, now=NOW)
    assert outcome.acted == "rel-1"
    assert store.totals == [("rel-1", 12, "autoscaler", None)]
    assert store.operations == []
    assert store.audited[0].changes == {"instances": {"from": 2, "to": 12}}


PARTS = ({"cluster": "b", "instances": 4}, {"cluster": "a", "instances": 8})


async def test_a_release_across_clusters_takes_the_total_split_as_an_autoscale_operation_splits_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its count is the group's (b's 4 under way + a's 8), not the cluster under way's: 100 requests/s
    is 12 → 2, split by the placement (1 / 1), given to the release with each cluster's count."""
    placing = Placing({"a": 1, "b": 1})
    placing.install(monkeypatch)
    active = Operation("rel-1", "release", "ann", "shop", "web", "prod", ReleaseParams(4))
    store = Store(active=active, release_total=4, release_clusters=PARTS)
    outcome = await autoscale.decide_and_act(platform(store, 100.0), GROUP, SPEC, now=NOW)
    assert outcome.decision is not None
    assert (outcome.decision.current, outcome.decision.desired) == (12, 2)
    assert outcome.acted == "rel-1"
    assert placing.asked == [(3, 2)]  # the running (stable) version, at the new count
    assert placing.checked == []  # down: nothing to fit
    assert store.totals == [("rel-1", 2, "autoscaler", {"a": 1, "b": 1})]
    assert store.audited[0].changes == {"instances": {"from": 12, "to": 2}}


@pytest.mark.parametrize(
    ("placing", "note"),
    [
        (Placing({"a": 13, "b": 7}, fits=False), "20 instances would not fit on cluster a"),
        (Placing({"a": 14, "c": 6}), "release rel-1 goes over a, b; the group would now be split over a, c"),
    ],
)
async def test_a_release_across_clusters_takes_no_total_that_does_not_fit_or_leaves_its_clusters(
    monkeypatch: pytest.MonkeyPatch, placing: Placing, note: str
) -> None:
    placing.install(monkeypatch)
    active = Operation("rel-1", "release", "ann", "shop", "web", "prod", ReleaseParams(4))
    store = Store(active=active, release_total=4, release_clusters=PARTS)
    outcome = await autoscale.decide_and_act(platform(store, 1200.0), GROUP, SPEC, now=NOW)
    assert outcome.decision is not None
    assert outcome.decision.desired == 20
    assert outcome.acted == ""
    assert note in outcome.note
    assert store.totals == []
    assert store.audited == []


async def test_a_release_ending_takes_no_total_and_no_split_is_computed(monkeypatch: pytest.MonkeyPatch) -> None:
    placing = Placing({"a": 1, "b": 1})
    placing.install(monkeypatch)
    active = Operation("rel-1", "release", "ann", "shop", "web", "prod", ReleaseParams(4))
    store = Store(active=active, release_total=4, release_clusters=PARTS, release_command="abort")
    outcome = await autoscale.decide_and_act(platform(store, 100.0), GROUP, SPEC, now=NOW)
    assert outcome.note == "release rel-1 cannot take a new total"
    assert (placing.asked, store.totals, store.audited) == ([], [], [])


async def test_a_round_decides_only_for_groups_whose_lease_it_holds() -> None:
    store = Store(leases={f"autoscale:{PATH}": "other-server"})
    assert await autoscale.run_round(platform(store, 100.0), runner="me", now=NOW) == []
    mine = Store()
    (outcome,) = await autoscale.run_round(platform(mine, 100.0), runner="me", now=NOW)
    assert outcome.acted == mine.operations[0].id


@pytest.mark.parametrize(
    ("params", "spec", "expected"),
    [
        (AutoscaleParams(3, instances=7, was=12), SPEC, 7),  # the autoscaler's count
        (ReleaseParams(3), SPEC, 12),  # keeps the recorded 8 + 4
        (
            DeployParams(3),
            SPEC.with_changes(autoscale={"min": 14, "max": 20, "signals": [{"signal": "cpu", "baseline": 1}]}),
            14,
        ),
        (DeployParams(3), SPEC.with_changes(autoscale=None), 2),  # no policy: the spec's own
        (ScaleParams(3, instances=5), SPEC, 5),  # a manual scale's
    ],
)
def test_what_an_operation_brings_is_sized_by_the_policy(params: Any, spec: Any, expected: int) -> None:
    assert rollouts.sized(spec, params, GROUP).instances == expected
