"""The new version's share of requests at the edge (``edge_share``): every state × step position of a
release with weight steps, promote --full, weights going down or to 0, a rollback after the release,
and a group on several clusters."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from dockyard.domain.release import Release, edge_share, parse_steps

WEIGHTED = ("gray 1", "pause", "weight 50%", "pause", "100%")  # 0 gray 1, 1 pause, 2 weight 50%, 3 pause, 4 100%


def done(steps: tuple[str, ...], upto: int) -> tuple[dict[str, Any], ...]:
    """The ledger entries the runner records for steps ``0 .. upto - 1`` (pauses: their promote)."""
    entries: list[dict[str, Any]] = []
    for i, step in enumerate(parse_steps(list(steps))[:upto]):
        if step.kind == "weight":
            entries.append({"event": "weight", "step": str(step), "index": i, "weight": step.value, "by": "ann"})
        elif step.kind == "pause":
            entries.append({"event": "promote"})
        else:
            entries.append({"event": "step", "step": str(step), "index": i, "new": 1, "stable": 9})
    return tuple(entries)


def release(
    step: int,
    *,
    status: str = "progressing",
    command: str = "",
    steps: tuple[str, ...] = WEIGHTED,
    ledger: tuple[dict[str, Any], ...] | None = None,
    strategy: str = "gray",
    **extra: Any,
) -> Release:
    return Release(
        id="r1",
        system="shop",
        app="web",
        group="prod",
        strategy=strategy,
        stable_version=1,
        new_version=2,
        total=10,
        steps=steps,
        step=step,
        status=status,
        paused=False,
        command=command,
        pause_until=None,
        ledger=({"event": "started"}, *(done(steps, step) if ledger is None else ledger)),
        error="",
        created_by="ann",
        **extra,
    )


# Where a running release (progressing, paused by the user, waiting for the apiserver) is: the share.
# "4 done": the last step (100%) is recorded and the hand-back is under way.
RUNNING = [
    (0, None),  # gray 1 under way: by instance counts
    (1, None),  # the pause after gray 1: no weight yet (1 of 3 instances: a third of the requests)
    (2, None),  # the weight step under way (not recorded yet)
    (3, 50),  # the pause after weight 50%
    (4, 50),  # 100% under way: the weight holds until it is done
]


@pytest.mark.parametrize("status", ["progressing", "paused", "waiting"])
@pytest.mark.parametrize(("position", "share"), RUNNING)
def test_a_running_release_shares_its_last_weight(status: str, position: int, share: int | None) -> None:
    assert edge_share(release(position, status=status)) == share


@pytest.mark.parametrize("status", ["progressing", "paused", "waiting"])
def test_once_the_last_step_is_done_the_share_is_100(status: str) -> None:
    assert edge_share(release(4, status=status, ledger=done(WEIGHTED, 5))) == 100


@pytest.mark.parametrize("status", ["progressing", "paused", "waiting"])
@pytest.mark.parametrize("position", range(5))
def test_abort_given_is_0_at_once(status: str, position: int) -> None:
    assert edge_share(release(position, status=status, command="abort")) == 0


@pytest.mark.parametrize("status", ["aborting", "aborted", "failed"])
@pytest.mark.parametrize("position", range(5))
def test_an_abort_under_way_or_done_is_0(status: str, position: int) -> None:
    assert edge_share(release(position, status=status)) == 0
    assert edge_share(release(position, status=status, ledger=done(WEIGHTED, 5))) == 0


@pytest.mark.parametrize("position", range(5))
@pytest.mark.parametrize("command", ["", "abort", "promote", "full"])
def test_a_succeeded_release_is_100(position: int, command: str) -> None:
    assert edge_share(release(position, status="succeeded", command=command)) == 100


@pytest.mark.parametrize(("command", "share"), [("promote", 50), ("full", 50), ("", 50)])
def test_commands_other_than_abort_change_nothing_until_a_step_is_done(command: str, share: int) -> None:
    assert edge_share(release(3, status="paused", command=command)) == share


@pytest.mark.parametrize(
    ("current_version", "share"),
    [(None, 100), (2, 100), (1, 0), (3, 0)],  # rolled back to 1, or a later deploy of 3: not the release's
)
def test_a_rollback_after_the_release_is_0(current_version: int | None, share: int) -> None:
    assert edge_share(release(4, status="succeeded"), current_version=current_version) == share


def test_current_version_matters_only_once_the_release_succeeded() -> None:
    assert edge_share(release(3, status="paused"), current_version=1) == 50


STEPPED = ("gray 1", "weight 0%", "pause", "weight 10%", "pause", "50%", "weight 5%", "pause", "100%")


@pytest.mark.parametrize(
    ("position", "share"),
    [
        (1, None),
        (2, 0),  # weight 0%: held on the stable version (not "by instance counts")
        (3, 0),
        (4, 10),
        (5, 10),  # 50% of the instances: the weight is independent of them
        (6, 10),
        (7, 5),  # down again
        (8, 5),
    ],
)
def test_weights_hold_go_down_and_ignore_instance_steps(position: int, share: int | None) -> None:
    assert edge_share(release(position, steps=STEPPED)) == share


def test_promote_full_skips_the_weights_after_it() -> None:
    """At the first pause after weight 0% … promote --full records the release at its 100% step."""
    ledger = (*done(STEPPED, 3), {"event": "promote", "full": True})
    assert edge_share(release(8, steps=STEPPED, ledger=ledger)) == 0
    finished = (*ledger, {"event": "step", "step": "100%", "index": 8, "new": 10, "stable": 0})
    assert edge_share(release(8, steps=STEPPED, ledger=finished)) == 100


def test_an_earlier_100_percent_step_is_not_the_last_one() -> None:
    steps = ("gray 1", "weight 20%", "100%", "pause", "100%")
    assert edge_share(release(3, steps=steps, status="paused")) == 20
    assert edge_share(release(4, steps=steps, ledger=done(steps, 5))) == 100


def test_a_step_recorded_before_weights_existed_has_no_index() -> None:
    ledger = (*done(WEIGHTED, 4), {"event": "step", "step": "100%", "new": 10, "stable": 0})
    assert edge_share(release(4, ledger=ledger)) == 50


@pytest.mark.parametrize(("strategy", "status"), [("blue-green", "paused"), ("rolling", "progressing")])
def test_other_strategies_route_by_the_service_and_counts(strategy: str, status: str) -> None:
    assert edge_share(release(1, strategy=strategy, status=status, steps=("100%", "pause", "100%"), ledger=())) is None
    assert edge_share(release(1, strategy=strategy, status="aborted", ledger=())) is None


def test_no_release_no_share() -> None:
    assert edge_share(None) is None
    assert edge_share(None, cluster="east", current_version=2) is None


CLUSTERS = (
    {"cluster": "east", "instances": 3},
    {"cluster": "west", "instances": 3},
    {"cluster": "north", "instances": 2},
)
EAST_DONE = (*done(WEIGHTED, 5), {"event": "cluster-done", "cluster": "east"})


def on_clusters(position: int, **kw: Any) -> Release:
    """The release through east (weights and all) and at ``position`` in west."""
    return release(position, ledger=(*EAST_DONE, *done(WEIGHTED, position)), clusters=CLUSTERS, cluster_index=1, **kw)


@pytest.mark.parametrize(
    ("position", "shares"),
    [
        (0, {"east": 100, "west": None, "north": None}),  # east's weights and last step are not west's
        (2, {"east": 100, "west": None, "north": None}),
        (3, {"east": 100, "west": 50, "north": None}),
        (4, {"east": 100, "west": 50, "north": None}),
    ],
)
def test_several_clusters_each_have_their_share(position: int, shares: dict[str, int | None]) -> None:
    made = on_clusters(position)
    assert {c: edge_share(made, cluster=c) for c in shares} == shares
    assert edge_share(made) == shares["west"]  # no cluster named: the one under way
    assert edge_share(made, cluster="south") is None  # not one of the release's clusters


@pytest.mark.parametrize("how", [{"status": "aborted"}, {"status": "aborting"}, {"command": "abort"}])
def test_an_abort_in_one_cluster_leaves_the_earlier_ones_on_the_new_version(how: dict[str, str]) -> None:
    made = on_clusters(3, **how)
    assert [edge_share(made, cluster=c) for c in ("east", "west", "north")] == [100, 0, None]


def test_a_release_on_several_clusters_that_succeeded_is_100_everywhere() -> None:
    made = replace(on_clusters(4), status="succeeded", cluster_index=2)
    assert [edge_share(made, cluster=c) for c in ("east", "west", "north")] == [100, 100, 100]
    assert edge_share(made, cluster="west", current_version=1) == 0


def test_a_group_on_one_cluster_ignores_the_cluster_named() -> None:
    assert edge_share(release(3), cluster="anywhere") == 50
