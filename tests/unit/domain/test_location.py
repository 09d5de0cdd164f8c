"""Locations, grants and the distribution of a group's instances over its clusters: tables of cases."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dockyard.domain.clusters import Cluster
from dockyard.domain.errors import InvalidInput
from dockyard.domain.location import (
    Location,
    choose_clusters,
    distribute,
    parse_location,
    uncovered,
)
from dockyard.domain.placement import Placement, parse_placement
from dockyard.domain.versions import load_spec, parse_spec

CLUSTERS = [
    Cluster("idc-a", "k", {"idc": "a", "provider": "idc", "region": "north"}),
    Cluster("idc-b", "k", {"idc": "b", "provider": "idc", "region": "north"}),
    Cluster("cloud-c", "k", {"provider": "cloud", "region": "south"}),
    Cluster("bare", "k", {}),
]


@pytest.mark.parametrize(
    ("location", "matched"),
    [
        (Location(idc="b"), ["idc-b"]),
        (Location(provider="idc"), ["idc-a", "idc-b"]),
        (Location(provider="idc", region="north"), ["idc-a", "idc-b"]),
        (Location(region="south"), ["cloud-c"]),
        (Location(clusters=("idc-a", "cloud-c")), ["cloud-c", "idc-a"]),
        (Location(provider="idc", clusters=("idc-a",)), ["idc-a"]),
        (Location(idc="a", region="south"), []),
        (Location(), []),
    ],
)
def test_a_location_matches_clusters_by_every_label_it_names(location: Location, matched: list[str]) -> None:
    assert sorted(c.name for c in CLUSTERS if location.matches(c)) == matched


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ("idc-b", "placement.location"),
        ({}, "placement.location"),
        ({"zone": "x"}, "placement.location.zone"),
        ({"idc": "B!"}, "placement.location.idc"),
        ({"idc": 3}, "placement.location.idc"),
        ({"clusters": "idc-a"}, "placement.location.clusters"),
        ({"clusters": ["idc-a", "Nope"]}, "placement.location.clusters[1]"),
    ],
)
def test_bad_locations_name_the_field(raw: Any, field: str) -> None:
    with pytest.raises(InvalidInput) as e:
        parse_location(raw)
    assert e.value.field == field


@pytest.mark.parametrize(
    ("location", "chosen", "field"),
    [
        (Location(idc="b"), ["idc-b"], None),
        (Location(provider="idc"), ["idc-a", "idc-b"], None),
        (Location(idc="z"), None, "placement.location"),
        (Location(clusters=("idc-a", "gone")), None, "placement.location.clusters[1]"),
        (Location(idc="a", clusters=("idc-b",)), None, "placement.location.clusters[0]"),
    ],
)
def test_choose_clusters(location: Location, chosen: list[str] | None, field: str | None) -> None:
    if field is None:
        assert choose_clusters(location, CLUSTERS) == chosen
        return
    with pytest.raises(InvalidInput) as e:
        choose_clusters(location, CLUSTERS)
    assert e.value.field == field


@pytest.mark.parametrize(
    ("grants", "missing"),
    [
        ([], ["cloud-c", "idc-a", "idc-b"]),
        ([Location(idc="a")], ["cloud-c", "idc-b"]),
        ([Location(provider="idc")], ["cloud-c"]),
        ([Location(provider="idc"), Location(clusters=("cloud-c",))], []),
        ([Location(region="north", provider="cloud")], ["cloud-c", "idc-a", "idc-b"]),
    ],
)
def test_grants_cover_the_clusters_they_match(grants: list[Location], missing: list[str]) -> None:
    assert uncovered(CLUSTERS[:3], grants) == missing


@pytest.mark.parametrize(
    ("total", "weights", "fixed", "expected"),
    [
        # Momo's rule: proportional to spare capacity, largest remainder.
        (12, {"a": 24, "b": 12}, False, {"a": 8, "b": 4}),
        (12, {"a": 12, "b": 6}, False, {"a": 8, "b": 4}),
        (10, {"a": 1, "b": 1, "c": 1}, False, {"a": 4, "b": 3, "c": 3}),
        (7, {"a": 50, "b": 30, "c": 20}, False, {"a": 4, "b": 2, "c": 1}),  # 3.5 2.1 1.4 -> a takes the .5
        (5, {"a": 0, "b": 7}, False, {"a": 0, "b": 5}),
        (4, {"a": 0, "b": 0}, False, {"a": 2, "b": 2}),  # no room anywhere: even
        (0, {"a": 3, "b": 9}, False, {"a": 0, "b": 0}),
        (3, {"b": 5, "a": 5}, False, {"a": 2, "b": 1}),  # a tie goes by name
        (1, {"small": 1, "big": 3}, False, {"small": 0, "big": 1}),
        # Fixed counts: as given when they add up, else as weights (after a scale).
        (12, {"a": 9, "b": 3}, True, {"a": 9, "b": 3}),
        (8, {"a": 9, "b": 3}, True, {"a": 6, "b": 2}),
        (5, {"a": 1, "b": 1}, True, {"a": 3, "b": 2}),
        (3, {}, False, {}),
    ],
)
def test_distribute(total: int, weights: dict[str, int], fixed: bool, expected: dict[str, int]) -> None:
    got = distribute(total, weights, fixed=fixed)
    assert got == expected
    assert sum(got.values()) == (total if weights else 0)


def test_where_a_version_runs_is_in_its_placement_and_survives_storage() -> None:
    raw = {
        "pool": "room",
        "location": {"idc": "b", "clusters": ["idc-b"]},
        "distribution": {"idc-b": 4},
        "release_order": ["idc-b"],
    }
    placement = parse_placement(raw)
    assert placement == Placement(
        pool="room",
        location=Location(idc="b", clusters=("idc-b",)),
        distribution=(("idc-b", 4),),
        release_order=("idc-b",),
    )
    spec = parse_spec({"image": "r.local/web:1", "flavor": "small", "instances": 4, "placement": raw})
    stored = json.loads(json.dumps(spec.to_data()))
    assert load_spec(stored) == spec
    proportional = parse_spec({**spec.to_data(), "placement": {"location": {"idc": "a"}}})
    assert proportional.placement == Placement(location=Location(idc="a"))
    assert load_spec(json.loads(json.dumps(proportional.to_data()))) == proportional
    assert parse_placement({"distribution": "proportional", "location": {"idc": "a"}}) == Placement(
        location=Location(idc="a")
    )


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"distribution": "even"}, "placement.distribution"),
        ({"distribution": {"idc-a": -1}}, "placement.distribution.idc-a"),
        ({"distribution": {"idc-a": True}}, "placement.distribution.idc-a"),
        ({"distribution": {"IDC": 1}}, "placement.distribution"),
        ({"release_order": "idc-a"}, "placement.release_order"),
        ({"location": {"idc": "b", "pool": "x"}}, "placement.location.pool"),
    ],
)
def test_bad_where_fields_are_named(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as e:
        parse_placement(raw)
    assert e.value.field == field
