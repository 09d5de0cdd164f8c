"""Which clusters a group runs on: a table of placements × application locations × grants × environment."""

from __future__ import annotations

from typing import Any

import pytest

from dockyard.domain.clusters import Cluster
from dockyard.domain.errors import InvalidInput, NotGranted
from dockyard.domain.location import Location
from dockyard.domain.model import Application, Group
from dockyard.domain.versions import VersionSpec, parse_spec
from dockyard.domain.where import Where, needs_grants, where

REGISTERED = {
    c.name: c
    for c in (
        Cluster("home", "k", {"idc": "a", "provider": "idc"}),
        Cluster("idc-a", "k", {"idc": "a", "provider": "idc"}),
        Cluster("idc-b", "k", {"idc": "b", "provider": "idc"}),
        Cluster("cloud-c", "k", {"provider": "cloud"}),
    )
}
IDC = Location(provider="idc")
IDC_A = Location(idc="a")
EVERYWHERE = (IDC, Location(provider="cloud"))


def spec(**placement: Any) -> VersionSpec:
    raw: dict[str, Any] = {"image": "r.local/web:1", "flavor": "small", "instances": 4}
    return parse_spec({**raw, "placement": placement} if placement else raw)


def group(environment: str = "prod") -> Group:
    return Group("shop", "web", "prod", environment, "home")  # type: ignore[arg-type]


def app(location: Location | None = None) -> Application:
    return Application("shop", "web", "r.local/shop/web", location=location)


CASES: list[tuple[str, Group, Application, VersionSpec, tuple[Location, ...], Where]] = [
    # no location anywhere: the home cluster, no grant needed even in production
    ("home", group(), app(), spec(), (), Where(("home",), None)),
    ("home, dev", group("dev"), app(), spec(), (), Where(("home",), None)),
    # the version's location, else the application's
    ("version location", group("dev"), app(), spec(location={"idc": "b"}), (), Where(("idc-b",), None)),
    ("app location", group("dev"), app(IDC), spec(), (), Where(("home", "idc-a", "idc-b"), None)),
    ("version beats app", group("dev"), app(IDC), spec(location={"provider": "cloud"}), (), Where(("cloud-c",), None)),
    (
        "release order first",
        group("dev"),
        app(IDC),
        spec(release_order=["idc-b", "cloud-c"]),
        (),
        Where(("idc-b", "home", "idc-a"), None),
    ),
    # fixed counts name the clusters
    (
        "fixed counts",
        group("dev"),
        app(),
        spec(distribution={"idc-b": 1, "cloud-c": 3}),
        (),
        Where(("cloud-c", "idc-b"), {"cloud-c": 3, "idc-b": 1}),
    ),
    (
        "fixed counts in a location",
        group("dev"),
        app(IDC),
        spec(distribution={"idc-a": 2, "idc-b": 2}),
        (),
        Where(("idc-a", "idc-b"), {"idc-a": 2, "idc-b": 2}),
    ),
    # production: every cluster covered by a grant
    ("prod granted", group(), app(), spec(location={"idc": "a"}), (IDC,), Where(("home", "idc-a"), None)),
    ("prod granted by two", group(), app(), spec(location={"idc": "b"}), (IDC_A, IDC), Where(("idc-b",), None)),
    ("prod app location granted", group(), app(IDC_A), spec(), (IDC_A,), Where(("home", "idc-a"), None)),
    (
        "prod fixed granted",
        group(),
        app(),
        spec(distribution={"cloud-c": 4}),
        EVERYWHERE,
        Where(("cloud-c",), {"cloud-c": 4}),
    ),
    ("test is no prod", group("test"), app(), spec(location={"provider": "cloud"}), (), Where(("cloud-c",), None)),
]


@pytest.mark.parametrize(
    ("group", "app", "spec", "grants", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_where(
    group: Group, app: Application, spec: VersionSpec, grants: tuple[Location, ...], expected: Where
) -> None:
    assert where(group, app, spec, REGISTERED, grants) == expected


REFUSED: list[tuple[str, Group, Application, VersionSpec, tuple[Location, ...], type[Exception], str, str]] = [
    (
        "unknown fixed",
        group("dev"),
        app(),
        spec(distribution={"gone": 4}),
        (),
        InvalidInput,
        "placement.distribution.gone",
        "not registered",
    ),
    (
        "fixed out of the location",
        group("dev"),
        app(IDC),
        spec(distribution={"cloud-c": 4}),
        (),
        InvalidInput,
        "placement.distribution.cloud-c",
        "not in location",
    ),
    (
        "no cluster there",
        group("dev"),
        app(Location(region="mars")),
        spec(),
        (),
        InvalidInput,
        "location",
        "no registered",
    ),
    ("prod without grant", group(), app(), spec(location={"idc": "b"}), (), NotGranted, "placement.location", "idc-b"),
    (
        "prod half granted",
        group(),
        app(),
        spec(location={"provider": "idc"}),
        (IDC_A,),
        NotGranted,
        "placement.location",
        "idc-b",
    ),
    ("prod app location", group(), app(IDC), spec(), (IDC_A,), NotGranted, "location", "may not run on idc-b"),
    (
        "prod fixed",
        group(),
        app(),
        spec(distribution={"cloud-c": 4}),
        (IDC,),
        NotGranted,
        "placement.distribution",
        "cloud-c",
    ),
]


@pytest.mark.parametrize(
    ("group", "app", "spec", "grants", "error", "field", "message"),
    [c[1:] for c in REFUSED],
    ids=[c[0] for c in REFUSED],
)
def test_refused(
    group: Group,
    app: Application,
    spec: VersionSpec,
    grants: tuple[Location, ...],
    error: type[Exception],
    field: str,
    message: str,
) -> None:
    with pytest.raises(error, match=message) as raised:
        where(group, app, spec, REGISTERED, grants)
    assert getattr(raised.value, "field", None) == field


@pytest.mark.parametrize(
    ("group", "app", "spec", "needed"),
    [
        (group(), app(), spec(), False),  # the home cluster only
        (group(), app(IDC), spec(), True),
        (group(), app(), spec(location={"idc": "a"}), True),
        (group(), app(), spec(distribution={"home": 4}), True),
        (group("dev"), app(IDC), spec(location={"idc": "a"}), False),
        (group("test"), app(), spec(distribution={"home": 4}), False),
    ],
)
def test_needs_grants(group: Group, app: Application, spec: VersionSpec, needed: bool) -> None:
    assert needs_grants(group, app, spec) is needed
