"""Single sign-on decisions: which groups an identity provider's claims name, and what a signed-in
person may do because of them. Pure: no I/O, table-tested (tests/unit/domain/test_sso.py).

Contracts:
- :func:`groups_of` reads the groups claim named by the settings (a dotted path reaches into nested
  objects, e.g. ``realm_access.roles``). A list of strings, or one string separated by spaces or
  commas, gives the same groups; anything else (a number, an object, a missing claim) gives none.
  Order and duplicates never matter.
- :func:`parse_role_map` reads ``GROUP=SYSTEM:ROLE`` or ``GROUP=SYSTEM/APP:ROLE`` entries separated
  by commas, semicolons or new lines; a wrong entry is refused with :class:`InvalidInput` naming it.
- :func:`principal_for` makes the caller: platform admin if any group is an admin group; for each
  mapped group, its role in the system (or application), the higher one when several groups map to
  the same scope. Groups that map to nothing are ignored. SSO callers are named ``sso:<name>`` so
  they never stand for a local user of the same name (nor inherit that user's bindings).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from dockyard.domain.access import ROLES, Principal, Role, higher
from dockyard.domain.errors import InvalidInput

NAME_PREFIX = "sso:"
MAX_GROUPS = 5000  # an IdP that sends more is misconfigured: keep what a session stores bounded
_SPLIT = re.compile(r"[\s,]+")
_ENTRY_SPLIT = re.compile(r"[,;\n]+")
_ENTRY = re.compile(
    r"^(?P<group>[^=]+?)\s*=\s*(?P<system>[a-z0-9]([-a-z0-9]*[a-z0-9])?)"
    r"(?:/(?P<app>[a-z0-9]([-a-z0-9]*[a-z0-9])?))?:(?P<role>[a-z]+)$"
)


@dataclass(frozen=True)
class Grant:
    """Members of a group hold ``role`` in ``system`` (or only in its application ``app``)."""

    system: str
    app: str | None
    role: Role


@dataclass(frozen=True)
class RoleMap:
    """IdP group names → platform admin, and → roles in systems or applications."""

    admin_groups: frozenset[str] = frozenset()
    grants: Mapping[str, tuple[Grant, ...]] = field(default_factory=dict)


def groups_of(claims: Mapping[str, object], claim: str = "groups") -> frozenset[str]:
    """The groups in ``claims[claim]`` (see the module's contract)."""
    value: object = claims
    for part in claim.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return frozenset()
        value = value[part]
    if isinstance(value, str):
        items: Iterable[object] = _SPLIT.split(value)
    elif isinstance(value, list | tuple):
        items = value
    else:
        return frozenset()
    groups = frozenset(g.strip() for g in items if isinstance(g, str) and g.strip())
    if len(groups) > MAX_GROUPS:
        raise InvalidInput(claim, f"the identity provider sent {len(groups)} groups; at most {MAX_GROUPS} are read")
    return groups


def parse_role_map(text: str, *, admin_groups: Iterable[str] = ()) -> RoleMap:
    """The role map of the settings (see the module's contract)."""
    grants: dict[str, list[Grant]] = {}
    for raw in _ENTRY_SPLIT.split(text):
        entry = raw.strip()
        if not entry:
            continue
        found = _ENTRY.match(entry)
        if found is None:
            raise InvalidInput("oidc_role_map", f"entry {entry!r} is not GROUP=SYSTEM:ROLE or GROUP=SYSTEM/APP:ROLE")
        role = found["role"]
        if role not in ROLES:
            raise InvalidInput("oidc_role_map", f"entry {entry!r}: role must be one of {', '.join(ROLES)}")
        grants.setdefault(found["group"].strip(), []).append(Grant(found["system"], found["app"], role))
    admins = frozenset(g.strip() for g in admin_groups if g.strip())
    return RoleMap(admin_groups=admins, grants={g: tuple(v) for g, v in grants.items()})


def principal_for(name: str, groups: Iterable[str], role_map: RoleMap) -> Principal:
    """The caller ``sso:<name>`` with what its ``groups`` map to."""
    member_of = frozenset(groups)
    roles: dict[str, Role] = {}
    app_roles: dict[tuple[str, str], Role] = {}
    for group in sorted(member_of & role_map.grants.keys()):
        for grant in role_map.grants[group]:
            if grant.app is None:
                roles[grant.system] = higher(roles.get(grant.system), grant.role) or grant.role
            else:
                key = (grant.system, grant.app)
                app_roles[key] = higher(app_roles.get(key), grant.role) or grant.role
    return Principal(
        name=NAME_PREFIX + name,
        admin=bool(member_of & role_map.admin_groups),
        roles=roles,
        app_roles=app_roles,
    )


def user_name(claims: Mapping[str, object], claim: str = "preferred_username") -> str | None:
    """Who signed in: the ``claim`` (else ``email``, else ``sub``), at most 90 characters (with the
    ``sso:`` prefix it fits the 100 of an actor's column); None if the token names nobody."""
    for key in (claim, "email", "sub"):
        value = claims.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()[:90]
    return None
