"""Placement: parsing with field paths, rendering into pod spec fields, and its place in a version."""

from __future__ import annotations

from typing import Any

import pytest

from dockyard.domain.errors import InvalidInput
from dockyard.domain.placement import Placement, Spread, parse_placement, pod_placement
from dockyard.domain.render import GroupRef, deployment
from dockyard.domain.versions import diff, parse_spec

GROUP = {"dockyard.io/app": "web", "dockyard.io/group": "prod"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, None),
        ({}, None),
        ({"pool": "idc-a-intel"}, Placement(pool="idc-a-intel")),
        ({"cpu_model": "amd-epyc-7742"}, Placement(cpu_model="amd-epyc-7742")),
        ({"spread": {}}, Placement(spread=Spread())),
        (
            {"spread": {"level": "zone", "hard": True, "by": "business"}},
            Placement(spread=Spread("zone", True, "business")),
        ),
    ],
)
def test_parse_placement(raw: Any, expected: Placement | None) -> None:
    assert parse_placement(raw) == expected


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ("idc-a", "placement"),
        ({"zone": "a"}, "placement.zone"),
        ({"pool": "bad pool"}, "placement.pool"),
        ({"pool": 5}, "placement.pool"),
        ({"cpu_model": "x" * 64}, "placement.cpu_model"),
        ({"spread": "node"}, "placement.spread"),
        ({"spread": {"level": "rack"}}, "placement.spread.level"),
        ({"spread": {"hard": "yes"}}, "placement.spread.hard"),
        ({"spread": {"by": "team"}}, "placement.spread.by"),
        ({"spread": {"weight": 5}}, "placement.spread.weight"),
        ({"priority": "urgent"}, "placement.priority"),
    ],
)
def test_bad_placement_names_the_field(raw: Any, field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_placement(raw)
    assert raised.value.field == field


@pytest.mark.parametrize(
    ("placement", "business", "fields"),
    [
        (None, "", {}),
        (
            Placement(pool="p1", cpu_model="m1"),
            "",
            {
                "nodeSelector": {"dockyard.io/pool": "p1", "dockyard.io/cpu-model": "m1"},
                # naming a pool tolerates the taint that reserves it (the sandbox's real pool is one)
                "tolerations": [
                    {"key": "dockyard.io/pool", "operator": "Equal", "value": "p1", "effect": "NoSchedule"}
                ],
            },
        ),
        (Placement(cpu_model="m1"), "", {"nodeSelector": {"dockyard.io/cpu-model": "m1"}}),  # no pool: no toleration
        (
            Placement(spread=Spread("node", True, "group")),
            "b-1",
            {
                "affinity": {
                    "podAntiAffinity": {
                        "requiredDuringSchedulingIgnoredDuringExecution": [
                            {"labelSelector": {"matchLabels": GROUP}, "topologyKey": "kubernetes.io/hostname"}
                        ]
                    }
                }
            },
        ),
        (
            Placement(spread=Spread("node", False, "business")),
            "b-1",
            {
                "affinity": {
                    "podAntiAffinity": {
                        "preferredDuringSchedulingIgnoredDuringExecution": [
                            {
                                "weight": 100,
                                "podAffinityTerm": {
                                    "labelSelector": {"matchLabels": {"dockyard.io/business-id": "b-1"}},
                                    "topologyKey": "kubernetes.io/hostname",
                                },
                            }
                        ]
                    }
                }
            },
        ),
        (
            Placement(spread=Spread("zone", True, "business")),
            "",  # no business id: the group's instances are spread
            {
                "topologySpreadConstraints": [
                    {
                        "maxSkew": 1,
                        "topologyKey": "topology.kubernetes.io/zone",
                        "whenUnsatisfiable": "DoNotSchedule",
                        "labelSelector": {"matchLabels": GROUP},
                    }
                ]
            },
        ),
    ],
)
def test_pod_placement(placement: Placement | None, business: str, fields: dict[str, Any]) -> None:
    assert pod_placement(placement, GROUP, business) == fields


def test_placement_is_part_of_the_version() -> None:
    base = {"image": "r/web:1", "flavor": "small", "instances": 3}
    plain = parse_spec(base)
    placed = parse_spec({**base, "placement": {"pool": "idc-a-intel", "spread": {"hard": True}}})
    assert diff(plain, placed) == {
        "placement": (
            None,
            {
                "pool": "idc-a-intel",
                "cpu_model": None,
                "spread": {"level": "node", "hard": True, "by": "group"},
                "priority": None,
                "location": None,
                "distribution": (),
                "release_order": (),
            },
        )
    }
    # Stored and read back as it was.
    assert parse_spec(placed.to_data() | {"secret_env": {}}) == placed
    pod = deployment(GroupRef("shop", "web", "prod"), 1, placed)["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"dockyard.io/pool": "idc-a-intel"}
    assert "requiredDuringSchedulingIgnoredDuringExecution" in pod["affinity"]["podAntiAffinity"]
    assert "nodeSelector" not in deployment(GroupRef("shop", "web", "prod"), 1, plain)["spec"]["template"]["spec"]


def test_priority_names_dockyards_priority_class() -> None:
    from dockyard.domain.placement import priority_classes

    assert pod_placement(Placement(priority="online"), GROUP, "") == {"priorityClassName": "dockyard-online"}
    classes = {c["metadata"]["name"]: c for c in priority_classes()}
    assert classes["dockyard-online"]["value"] > classes["dockyard-batch"]["value"]
    assert classes["dockyard-batch"]["preemptionPolicy"] == "Never"  # batch work never evicts anyone
    assert not any(c["globalDefault"] for c in classes.values())
