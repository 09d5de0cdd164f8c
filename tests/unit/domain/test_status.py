"""A group's state, on one cluster and over several: tables of cases."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from dockyard.domain.model import Group, GroupCluster
from dockyard.domain.status import (
    ClusterStateName,
    InstanceView,
    can_tell_drift,
    cluster_state,
    combined_state,
    group_state,
    parts,
    settled,
)

R1 = InstanceView("1", ready=True)
N1 = InstanceView("1", ready=False)
R2 = InstanceView("2", ready=True)
GONE = InstanceView("1", ready=True, deleting=True)

CASES = [
    # current, wanted, instances, busy, drifted, connected, state
    (None, 0, [], False, False, True, "not-deployed"),
    (None, 0, [], True, False, True, "progressing"),
    (1, 3, [R1, R1, R1], True, False, True, "progressing"),
    (1, 3, [R1, R1, R1], False, False, True, "healthy"),
    (1, 3, [R1, R1, R1, GONE], False, False, True, "healthy"),
    (1, 3, [R1, R1, N1], False, False, True, "degraded"),
    (1, 3, [R1, R1], False, False, True, "degraded"),
    (1, 2, [R1, R1, R2], False, False, True, "degraded"),
    (2, 2, [R1, R1], False, False, True, "degraded"),
    (1, 3, [R1, R1, R1], False, True, True, "drifted"),
    (1, 3, [], False, False, False, "unknown"),
    (1, 3, [R1, R1, R1], False, False, False, "healthy"),
    (1, 0, [], False, False, True, "healthy"),
]


@pytest.mark.parametrize(("current", "wanted", "instances", "busy", "drifted", "connected", "state"), CASES)
def test_group_state(
    current: int | None,
    wanted: int,
    instances: list[InstanceView],
    busy: bool,
    drifted: bool,
    connected: bool,
    state: str,
) -> None:
    got = group_state(
        current_version=current, wanted=wanted, instances=instances, busy=busy, drifted=drifted, connected=connected
    )
    assert got == state


CLUSTER_CASES = [
    # connected, several, state: a cluster away is unreachable only when the group has several
    (True, True, "healthy"),
    (False, True, "unreachable"),
    (False, False, "healthy"),  # one cluster: its last known instances, shown stale by the caller
    (True, False, "healthy"),
]


@pytest.mark.parametrize(("connected", "several", "state"), CLUSTER_CASES)
def test_cluster_state(connected: bool, several: bool, state: str) -> None:
    got = cluster_state(
        current_version=1,
        wanted=3,
        instances=[R1, R1, R1],
        busy=False,
        drifted=False,
        connected=connected,
        several=several,
    )
    assert got == state


@pytest.mark.parametrize("busy", [True, False])
def test_an_unreachable_cluster_is_unreachable_even_while_busy(busy: bool) -> None:
    got = cluster_state(
        current_version=1, wanted=3, instances=[], busy=busy, drifted=False, connected=False, several=True
    )
    assert got == "unreachable"


COMBINED: list[tuple[list[ClusterStateName], str]] = [
    (["healthy"], "healthy"),
    (["healthy", "healthy"], "healthy"),
    (["drifted", "drifted"], "drifted"),
    (["not-deployed", "not-deployed"], "not-deployed"),
    (["unknown"], "unknown"),
    (["progressing", "progressing"], "progressing"),
    (["unreachable"], "degraded"),
    (["unreachable", "unreachable"], "degraded"),
    (["healthy", "unreachable"], "degraded"),
    (["healthy", "progressing", "unreachable"], "progressing"),
    (["healthy", "degraded"], "degraded"),
    (["drifted", "degraded"], "degraded"),
    (["healthy", "drifted"], "drifted"),
    (["drifted", "unreachable"], "degraded"),
    (["healthy", "not-deployed"], "degraded"),
    (["healthy", "unknown"], "degraded"),
    ([], "degraded"),
]


@pytest.mark.parametrize(("states", "state"), COMBINED)
def test_combined_state(states: list[ClusterStateName], state: str) -> None:
    assert combined_state(states) == state


NOW = dt.datetime(2026, 12, 2, 7, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("finished_at", "seconds_later", "expected"),
    [(None, 0.0, True), (NOW, 0.0, False), (NOW, 5.0, False), (NOW, 5.1, True), (NOW, 3600.0, True)],
)
def test_settled(finished_at: dt.datetime | None, seconds_later: float, expected: bool) -> None:
    assert settled(finished_at, NOW.timestamp() + seconds_later) is expected


@pytest.mark.parametrize(
    ("running", "here", "busy", "connected", "caught_up", "expected"),
    [
        (3, 3, False, True, True, True),
        (None, None, False, True, True, False),  # nothing runs: nothing to drift from
        (3, 2, False, True, True, False),  # the cluster still runs another version (away at the deploy)
        (3, None, False, True, True, False),
        (3, 3, True, True, True, False),  # an operation is under way
        (3, 3, False, False, True, False),  # a stale cache
        (3, 3, False, True, False, False),  # the cache may not have seen the last writes
    ],
)
def test_can_tell_drift(
    running: int | None, here: int | None, busy: bool, connected: bool, caught_up: bool, expected: bool
) -> None:
    assert can_tell_drift(running=running, here=here, busy=busy, connected=connected, settled=caught_up) is expected


def test_parts_default_to_the_home_cluster() -> None:
    home = Group("shop", "web", "prod", "prod", "home", current_version=2)
    assert parts(home, 3) == [GroupCluster("home", 3, 2)]
    spread = replace(home, clusters=(GroupCluster("east", 2, 2), GroupCluster("west", 1, 1)))
    assert parts(spread, 3) == [GroupCluster("east", 2, 2), GroupCluster("west", 1, 1)]
