"""The pure single sign-on decisions: groups read from claims of every shape, the role map, and the
principal they make."""

from __future__ import annotations

from typing import Any

import pytest

from dockyard.domain.access import Principal
from dockyard.domain.errors import InvalidInput
from dockyard.domain.sso import MAX_GROUPS, Grant, groups_of, parse_role_map, principal_for, user_name

MAP = parse_role_map(
    "shop-devs=shop:developer, shop-ops=shop:owner; web-viewers=shop/web:viewer\nbilling-team=billing:viewer",
    admin_groups=["platform-admins"],
)

GROUPS_CASES: list[tuple[str, dict[str, Any], str, frozenset[str]]] = [
    ("a list", {"groups": ["shop-devs", "web-viewers"]}, "groups", frozenset({"shop-devs", "web-viewers"})),
    (
        "a space-separated string",
        {"groups": "shop-devs web-viewers"},
        "groups",
        frozenset({"shop-devs", "web-viewers"}),
    ),
    (
        "a comma-separated string",
        {"groups": "shop-devs,web-viewers"},
        "groups",
        frozenset({"shop-devs", "web-viewers"}),
    ),
    ("commas and spaces", {"groups": " shop-devs , web-viewers ,"}, "groups", frozenset({"shop-devs", "web-viewers"})),
    ("a custom claim", {"roles": ["shop-devs", "web-viewers"]}, "roles", frozenset({"shop-devs", "web-viewers"})),
    (
        "a nested claim",
        {"realm_access": {"roles": ["shop-devs", "web-viewers"]}},
        "realm_access.roles",
        frozenset({"shop-devs", "web-viewers"}),
    ),
    ("duplicates", {"groups": ["shop-devs", "shop-devs"]}, "groups", frozenset({"shop-devs"})),
    ("no claim", {}, "groups", frozenset()),
    ("the claim under another name", {"groups": ["shop-devs"]}, "roles", frozenset()),
    ("a number", {"groups": 7}, "groups", frozenset()),
    ("an object", {"groups": {"shop-devs": True}}, "groups", frozenset()),
    ("non-strings in a list are skipped", {"groups": ["shop-devs", 3, None, ""]}, "groups", frozenset({"shop-devs"})),
    ("a nested path through a non-object", {"realm_access": "x"}, "realm_access.roles", frozenset()),
]


@pytest.mark.parametrize(
    ("claims", "claim", "expected"), [c[1:] for c in GROUPS_CASES], ids=[c[0] for c in GROUPS_CASES]
)
def test_groups_of(claims: dict[str, Any], claim: str, expected: frozenset[str]) -> None:
    assert groups_of(claims, claim) == expected


def test_every_shape_of_the_claim_maps_to_the_same_roles() -> None:
    shapes = [c for c in GROUPS_CASES if c[3] == frozenset({"shop-devs", "web-viewers"})]
    principals = [principal_for("olga", groups_of(claims, claim), MAP) for _, claims, claim, _ in shapes]
    assert len(shapes) == 6
    expected = Principal(name="sso:olga", roles={"shop": "developer"}, app_roles={("shop", "web"): "viewer"})
    assert principals == [expected] * 6


def test_too_many_groups_are_refused() -> None:
    with pytest.raises(InvalidInput, match="at most"):
        groups_of({"groups": [f"g{i}" for i in range(MAX_GROUPS + 1)]})


PRINCIPAL_CASES: list[tuple[str, list[str], Principal]] = [
    ("no group", [], Principal("sso:olga")),
    ("unmapped groups", ["everyone", "vpn"], Principal("sso:olga")),
    ("a system role", ["shop-devs"], Principal("sso:olga", roles={"shop": "developer"})),
    ("the higher of two", ["shop-devs", "shop-ops"], Principal("sso:olga", roles={"shop": "owner"})),
    ("an application role", ["web-viewers"], Principal("sso:olga", app_roles={("shop", "web"): "viewer"})),
    (
        "two systems",
        ["shop-devs", "billing-team"],
        Principal("sso:olga", roles={"shop": "developer", "billing": "viewer"}),
    ),
    ("platform admin", ["platform-admins"], Principal("sso:olga", admin=True)),
    ("group names are exact", ["Shop-Devs", "shop-devs2"], Principal("sso:olga")),
]


@pytest.mark.parametrize(("groups", "expected"), [c[1:] for c in PRINCIPAL_CASES], ids=[c[0] for c in PRINCIPAL_CASES])
def test_principal_for(groups: list[str], expected: Principal) -> None:
    assert principal_for("olga", groups, MAP) == expected


def test_parse_role_map() -> None:
    assert MAP.grants["web-viewers"] == (Grant("shop", "web", "viewer"),)
    assert MAP.admin_groups == frozenset({"platform-admins"})
    assert parse_role_map("") == parse_role_map(" , ;\n")
    two = parse_role_map("devs=shop:developer,devs=billing:viewer")
    assert two.grants["devs"] == (Grant("shop", None, "developer"), Grant("billing", None, "viewer"))


@pytest.mark.parametrize(
    "entry",
    ["devs", "devs=shop", "devs=shop:admin", "devs=Shop:viewer", "=shop:viewer", "devs=shop/web/x:viewer"],
)
def test_a_wrong_role_map_entry_is_named(entry: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_role_map(f"ok=shop:viewer,{entry}")
    assert caught.value.field == "oidc_role_map"
    assert entry in str(caught.value)


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({"preferred_username": "olga", "email": "o@x", "sub": "1"}, "olga"),
        ({"email": "o@x", "sub": "1"}, "o@x"),
        ({"sub": "1"}, "1"),
        ({"preferred_username": "  ", "sub": "1"}, "1"),
        ({}, None),
        ({"sub": "x" * 300}, "x" * 90),
    ],
)
def test_user_name(claims: dict[str, Any], expected: str | None) -> None:
    assert user_name(claims) == expected
