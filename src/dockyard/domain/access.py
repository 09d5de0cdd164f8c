"""Who may do what: the caller as a :class:`Principal`, and pure authorization decisions.

Contract of :func:`authorize`: a caller who may not *see* a system gets :class:`NotFound` for it and
everything under it, exactly as if it did not exist (no existence leaks); a caller who may see it but
not take the action gets :class:`Forbidden`. Platform-wide actions (clusters, users) need an admin.

Today a platform admin may do everything and other users see no system; roles scoped to a system
(owner, developer, viewer) extend :func:`role_in` without changing any caller.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from dockyard.domain.errors import Forbidden, Hidden

Action = Literal["read", "deploy", "manage"]
Role = Literal["owner", "developer", "viewer"]
_ALLOWED: dict[Role, frozenset[Action]] = {
    "owner": frozenset({"read", "deploy", "manage"}),
    "developer": frozenset({"read", "deploy"}),
    "viewer": frozenset({"read"}),
}


@dataclass(frozen=True)
class Principal:
    """An authenticated caller. ``roles`` maps a system's name to the caller's role in it."""

    name: str
    admin: bool = False
    roles: dict[str, Role] = field(default_factory=dict)


def role_in(principal: Principal, system: str) -> Role | None:
    if principal.admin:
        return "owner"
    return principal.roles.get(system)


def can_see(principal: Principal, system: str) -> bool:
    return role_in(principal, system) is not None


def authorize(principal: Principal, action: Action, system: str) -> None:
    """Raise :class:`Hidden` (a :class:`NotFound`) if ``system`` is invisible to the caller,
    :class:`Forbidden` if the role does not allow ``action``."""
    role = role_in(principal, system)
    if role is None:
        raise Hidden(f"system {system!r} does not exist")
    if action not in _ALLOWED[role]:
        raise Forbidden(f"your role {role!r} in system {system!r} does not allow {action!r}")


def require_admin(principal: Principal, what: str) -> None:
    if not principal.admin:
        raise Forbidden(f"{what} needs a platform admin")
