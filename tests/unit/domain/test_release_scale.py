"""A release across clusters given a new total (issue 19: autoscaling during a multi-cluster release):
the group's count it holds, the new counts each cluster keeps its place with, and which of the other
clusters its runner brings to their new count."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from dockyard.domain.location import distribute
from dockyard.domain.model import GroupCluster
from dockyard.domain.release import Release, Rescaled, group_instances, rescale, split, takes_total
from dockyard.domain.release_steps import CLUSTER_SCALED, ScaleCluster, clusters_to_scale

STEPS = ("20%", "pause", "100%")


def parts(*counts: tuple[str, int]) -> tuple[dict[str, Any], ...]:
    return tuple({"cluster": name, "instances": n} for name, n in counts)


def release(
    index: int = 0, total: int | None = None, *, clusters: tuple[dict[str, Any], ...] | None = None, **fields: Any
) -> Release:
    """Paused at 20 % on the cluster ``index`` of ``clusters`` (default b 4, local 8; () for one cluster of 4)."""
    clusters = parts(("b", 4), ("local", 8)) if clusters is None else clusters
    if total is None:
        total = int(clusters[index]["instances"]) if clusters else 4
    made = Release(
        id="r1",
        system="shop",
        app="web",
        group="prod",
        strategy="gray",
        stable_version=1,
        new_version=2,
        total=total,
        steps=STEPS,
        step=1,
        status="paused",
        paused=False,
        command="",
        pause_until=None,
        ledger=(),
        error="",
        created_by="ann",
        clusters=clusters,
        cluster_index=index,
    )
    return replace(made, **fields)


@pytest.mark.parametrize(
    ("fields", "takes"),
    [
        ({}, True),
        ({"status": "progressing"}, True),
        ({"status": "waiting"}, True),
        ({"paused": True}, True),
        ({"strategy": "blue-green"}, True),
        ({"command": "promote"}, True),
        ({"strategy": "rolling"}, False),
        ({"status": "aborting"}, False),
        ({"command": "abort"}, False),
        ({"status": "aborted"}, False),
        ({"status": "failed"}, False),
        ({"status": "succeeded"}, False),
    ],
)
def test_takes_total(fields: dict[str, Any], takes: bool) -> None:
    assert takes_total(release(**fields)) is takes
    assert takes_total(release(clusters=(), **fields)) is takes


@pytest.mark.parametrize(
    ("made", "count"),
    [
        (release(clusters=()), 4),  # one cluster: its total (4 from the default parts' first)
        (replace(release(clusters=()), total=7), 7),
        (release(0), 12),
        (release(1), 12),
        (release(1, total=6), 10),  # the one under way counts at its total
        (release(clusters=parts(("a", 3), ("b", 2), ("c", 1)), index=2), 6),
    ],
)
def test_group_instances(made: Release, count: int) -> None:
    assert group_instances(made) == count


@pytest.mark.parametrize(
    ("made", "counts", "expected"),
    [
        # b under way at 20 %, local not begun: 12 → 6 by room 64:32 gives 2 / 4.
        (
            release(0),
            {"b": 2, "local": 4},
            Rescaled(parts(("b", 2), ("local", 4)), 2, {"b": {"from": 4, "to": 2}, "local": {"from": 8, "to": 4}}),
        ),
        # local under way (b released): its share is the new total, b keeps its place.
        (
            release(1),
            {"local": 12, "b": 6},
            Rescaled(parts(("b", 6), ("local", 12)), 12, {"b": {"from": 4, "to": 6}, "local": {"from": 8, "to": 12}}),
        ),
        # The one under way counted at its total (set meanwhile), not at its entry's count.
        (
            release(0, total=5),
            {"b": 5, "local": 9},
            Rescaled(parts(("b", 5), ("local", 9)), 5, {"local": {"from": 8, "to": 9}}),
        ),
        # Fields of an entry other than the count are kept.
        (
            release(clusters=({"cluster": "b", "instances": 1, "note": "x"}, {"cluster": "c", "instances": 1})),
            {"b": 1, "c": 1},
            Rescaled(({"cluster": "b", "instances": 1, "note": "x"}, {"cluster": "c", "instances": 1}), 1, {}),
        ),
    ],
)
def test_rescale(made: Release, counts: dict[str, int], expected: Rescaled) -> None:
    assert rescale(made, counts) == expected


@pytest.mark.parametrize(
    ("made", "counts", "why"),
    [
        (release(0), {"b": 2}, "the counts name"),
        (release(0), {"b": 2, "local": 4, "c": 1}, "the counts name"),
        (release(0), {"b": 2, "c": 4}, "the counts name"),
        (release(0), {}, "the counts name"),
        (release(clusters=()), {}, "the counts name"),  # one cluster: a total, no counts
        (release(0), {"b": -1, "local": 4}, "must not be negative"),
    ],
)
def test_rescale_refuses_counts_of_other_clusters(made: Release, counts: dict[str, int], why: str) -> None:
    with pytest.raises(ValueError, match=why):
        rescale(made, counts)


@pytest.mark.parametrize(
    ("index", "total", "runs"),
    [
        # The "Done when": room 2:1 over local and b, a gray release at 20 %, b first.
        # b under way: its share splits 20 % new; local (not begun) all stable.
        (0, 12, {"b": {"2": 1, "1": 3}, "local": {"1": 8}}),
        (0, 6, {"b": {"2": 1, "1": 1}, "local": {"1": 4}}),
        (0, 2, {"b": {"2": 1, "1": 0}, "local": {"1": 1}}),
        # local under way: b (released) all new.
        (1, 12, {"b": {"2": 4}, "local": {"2": 2, "1": 6}}),
        (1, 6, {"b": {"2": 2}, "local": {"2": 1, "1": 3}}),
        (1, 20, {"b": {"2": 7}, "local": {"2": 3, "1": 10}}),
    ],
)
def test_a_new_total_split_by_room_keeps_each_cluster_where_the_release_is(
    index: int, total: int, runs: dict[str, dict[str, int]]
) -> None:
    """The split the autoscaler computes (largest remainder by room, domain/location.py), given to the
    release: what each cluster then runs."""
    counts = distribute(total, {"local": 64, "b": 32})
    made = release(index)
    rescaled = rescale(made, counts)
    after = replace(made, clusters=rescaled.clusters, total=rescaled.total)
    assert group_instances(after) == total
    got: dict[str, dict[str, int]] = {}
    for i, entry in enumerate(after.clusters):
        name, count = str(entry["cluster"]), int(entry["instances"])
        if i < index:
            got[name] = {"2": count}
        elif i == index:
            new, stable = split(after.parsed_steps, after.step, after.total)
            got[name] = {"2": new, "1": stable}
        else:
            got[name] = {"1": count}
    assert got == runs


RECORDED = (GroupCluster("b", 4, 2), GroupCluster("local", 8, 1), GroupCluster("c", 3, 1))
THREE = parts(("b", 6), ("local", 12), ("c", 3))


@pytest.mark.parametrize(
    ("made", "recorded", "expected"),
    [
        # local under way: b (released, version 2) to its new 6; c (not begun, version 1) unchanged.
        (release(1, clusters=THREE), RECORDED, (ScaleCluster("b", 6, 2),)),
        # b under way: the others to their counts, each at its version; b itself is the step machine's.
        (
            release(0, clusters=parts(("b", 9), ("local", 2), ("c", 5))),
            RECORDED,
            (ScaleCluster("local", 2, 1), ScaleCluster("c", 5, 1)),
        ),
        # All as recorded: nothing.
        (release(0, clusters=parts(("b", 9), ("local", 8), ("c", 3))), RECORDED, ()),
        # Nothing recorded there, or no version yet: nothing to scale.
        (release(1, clusters=THREE), (GroupCluster("local", 8, 1), GroupCluster("b", 4, None)), ()),
        # The release ends, or an abort is given: the abort goes first.
        (release(1, clusters=THREE, status="aborting"), RECORDED, ()),
        (release(1, clusters=THREE, command="abort"), RECORDED, ()),
        (release(1, clusters=THREE, status="succeeded"), RECORDED, ()),
        (release(1, clusters=THREE, status="aborted"), RECORDED, ()),
        # Paused by its owner: the counts still follow (as a rescale at a pause does).
        (release(1, clusters=THREE, paused=True), RECORDED, (ScaleCluster("b", 6, 2),)),
        # One cluster: nothing (the step machine's Rescale).
        (release(clusters=()), RECORDED, ()),
    ],
)
def test_clusters_to_scale(
    made: Release, recorded: tuple[GroupCluster, ...], expected: tuple[ScaleCluster, ...]
) -> None:
    assert clusters_to_scale(made, recorded) == expected


def test_a_cluster_that_failed_at_a_count_is_tried_again_only_at_another() -> None:
    failed = {"event": CLUSTER_SCALED, "cluster": "b", "instances": 6, "version": 2, "error": "deadline passed"}
    made = release(1, clusters=THREE, ledger=(failed,))
    assert clusters_to_scale(made, RECORDED) == ()
    done = {"event": CLUSTER_SCALED, "cluster": "b", "instances": 6, "version": 2}
    assert clusters_to_scale(replace(made, ledger=(failed, done)), RECORDED) == (ScaleCluster("b", 6, 2),)
    other = replace(made, clusters=parts(("b", 7), ("local", 12), ("c", 3)))
    assert clusters_to_scale(other, RECORDED) == (ScaleCluster("b", 7, 2),)
