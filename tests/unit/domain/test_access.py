"""Authorization decisions: every role × scope × action, and who may grant what."""

from __future__ import annotations

import pytest

from dockyard.domain.access import Action, Principal, Role, authorize, can_see, higher, may_grant, role_in
from dockyard.domain.errors import Forbidden, Hidden, InvalidInput

ADMIN = Principal("root", admin=True)
OWNER = Principal("olga", roles={"shop": "owner"})
DEV = Principal("dan", roles={"shop": "developer"})
VIEWER = Principal("vera", roles={"shop": "viewer"})
APP_DEV = Principal("ada", app_roles={("shop", "web"): "developer"})
APP_OWNER = Principal("otto", app_roles={("shop", "web"): "owner"})
MIXED = Principal("max", roles={"shop": "viewer"}, app_roles={("shop", "web"): "developer"})
OUTSIDER = Principal("eve", roles={"bank": "owner"})

OK, FORBIDDEN, HIDDEN = "ok", "403", "404"


def outcome(principal: Principal, action: Action, system: str, app: str | None) -> str:
    try:
        authorize(principal, action, system, app)
    except Hidden:
        return HIDDEN
    except Forbidden:
        return FORBIDDEN
    return OK


@pytest.mark.parametrize(
    ("principal", "app", "read", "deploy", "manage"),
    [
        (ADMIN, None, OK, OK, OK),
        (ADMIN, "web", OK, OK, OK),
        (OWNER, None, OK, OK, OK),
        (OWNER, "web", OK, OK, OK),
        (DEV, None, OK, OK, FORBIDDEN),
        (DEV, "web", OK, OK, FORBIDDEN),
        (VIEWER, None, OK, FORBIDDEN, FORBIDDEN),
        (VIEWER, "web", OK, FORBIDDEN, FORBIDDEN),
        # a role in one application: the system is visible (read), nothing else of it
        (APP_DEV, None, OK, FORBIDDEN, FORBIDDEN),
        (APP_DEV, "web", OK, OK, FORBIDDEN),
        (APP_DEV, "api", HIDDEN, HIDDEN, HIDDEN),
        (APP_OWNER, "web", OK, OK, OK),
        (APP_OWNER, None, OK, FORBIDDEN, FORBIDDEN),
        (APP_OWNER, "api", HIDDEN, HIDDEN, HIDDEN),
        # the higher of the system-wide and the application role counts
        (MIXED, "web", OK, OK, FORBIDDEN),
        (MIXED, "api", OK, FORBIDDEN, FORBIDDEN),
        (MIXED, None, OK, FORBIDDEN, FORBIDDEN),
        # another system's owner sees nothing of this one
        (OUTSIDER, None, HIDDEN, HIDDEN, HIDDEN),
        (OUTSIDER, "web", HIDDEN, HIDDEN, HIDDEN),
    ],
)
def test_authorize_matrix(principal: Principal, app: str | None, read: str, deploy: str, manage: str) -> None:
    assert [outcome(principal, a, "shop", app) for a in ("read", "deploy", "manage")] == [read, deploy, manage]


def test_hidden_application_of_an_invisible_system_names_the_system_only() -> None:
    with pytest.raises(Hidden, match="system 'shop' does not exist"):
        authorize(OUTSIDER, "read", "shop", "web")
    with pytest.raises(Hidden, match="application 'api' does not exist in 'shop'"):
        authorize(APP_DEV, "read", "shop", "api")


@pytest.mark.parametrize(
    ("principal", "system", "app", "visible"),
    [
        (APP_DEV, "shop", None, True),
        (APP_DEV, "shop", "web", True),
        (APP_DEV, "shop", "api", False),
        (APP_DEV, "bank", None, False),
        (VIEWER, "shop", "api", True),
        (OUTSIDER, "shop", None, False),
        (ADMIN, "anything", "at-all", True),
    ],
)
def test_can_see(principal: Principal, system: str, app: str | None, visible: bool) -> None:
    assert can_see(principal, system, app) is visible


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [(None, None, None), ("viewer", None, "viewer"), (None, "owner", "owner"), ("developer", "viewer", "developer")],
)
def test_higher(a: Role | None, b: Role | None, expected: Role | None) -> None:
    assert higher(a, b) == expected


def test_role_in_prefers_the_higher_role() -> None:
    assert role_in(MIXED, "shop", "web") == "developer"
    assert role_in(MIXED, "shop") == "viewer"


@pytest.mark.parametrize(
    ("principal", "app", "role", "expected"),
    [
        (ADMIN, None, "owner", OK),
        (OWNER, None, "owner", OK),
        (OWNER, "web", "developer", OK),
        (APP_OWNER, "web", "owner", OK),
        # an application's owner cannot grant on the system, where they hold nothing
        (APP_OWNER, None, "viewer", FORBIDDEN),
        (APP_OWNER, "api", "viewer", HIDDEN),
        # developers and viewers manage no members, not even a lower role
        (DEV, None, "viewer", FORBIDDEN),
        (VIEWER, None, "viewer", FORBIDDEN),
        (OUTSIDER, None, "viewer", HIDDEN),
    ],
)
def test_may_grant(principal: Principal, app: str | None, role: Role, expected: str) -> None:
    try:
        may_grant(principal, "shop", app, role)
        got = OK
    except Hidden:
        got = HIDDEN
    except Forbidden:
        got = FORBIDDEN
    assert got == expected


def test_may_grant_refuses_unknown_roles() -> None:
    with pytest.raises(InvalidInput, match="role must be one of"):
        may_grant(ADMIN, "shop", None, "superuser")  # type: ignore[arg-type]
