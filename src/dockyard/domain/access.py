"""Who may do what: the caller as a :class:`Principal`, and pure authorization decisions.

Roles are bound to a user in a system, or in one application of a system:

- ``owner``: everything in its scope, including its members;
- ``developer``: read, deploy, scale, roll back, build;
- ``viewer``: read only.

A platform ``admin`` is owner everywhere and alone manages clusters, users and systems themselves.

Contract of :func:`authorize`: a caller who may not *see* the target gets :class:`Hidden` (answered
as 404, exactly as if it did not exist: no existence leaks); a caller who may see it but not take the
action gets :class:`Forbidden`. A role in an application makes its system visible (its name, and the
applications the caller has a role in) and nothing else of it; a system-wide role covers every
application, and the higher of the two roles counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from dockyard.domain.errors import Forbidden, Hidden, InvalidInput

Action = Literal["read", "deploy", "manage"]
Role = Literal["owner", "developer", "viewer"]
ROLES: tuple[Role, ...] = ("viewer", "developer", "owner")  # ascending rights
_ALLOWED: dict[Role, frozenset[Action]] = {
    "owner": frozenset({"read", "deploy", "manage"}),
    "developer": frozenset({"read", "deploy"}),
    "viewer": frozenset({"read"}),
}


@dataclass(frozen=True)
class Principal:
    """An authenticated caller. ``roles`` maps a system to the caller's system-wide role in it,
    ``app_roles`` maps ``(system, application)`` to a role in that application only."""

    name: str
    admin: bool = False
    roles: dict[str, Role] = field(default_factory=dict)
    app_roles: dict[tuple[str, str], Role] = field(default_factory=dict)


@dataclass(frozen=True)
class Binding:
    """``user`` holds ``role`` in ``system``, or only in its application ``app`` when set."""

    user: str
    system: str
    app: str | None
    role: Role
    granted_by: str


def higher(a: Role | None, b: Role | None) -> Role | None:
    """The role with more rights of two (either may be missing)."""
    if a is None or b is None:
        return a or b
    return a if ROLES.index(a) >= ROLES.index(b) else b


def role_in(principal: Principal, system: str, app: str | None = None) -> Role | None:
    """The caller's role for ``system`` (system-wide) or for ``app`` in it (the higher of both)."""
    if principal.admin:
        return "owner"
    system_role = principal.roles.get(system)
    if app is None:
        return system_role
    return higher(system_role, principal.app_roles.get((system, app)))


def can_see(principal: Principal, system: str, app: str | None = None) -> bool:
    """Whether ``system`` (or ``app`` in it) exists for the caller."""
    if role_in(principal, system, app) is not None:
        return True
    return app is None and any(s == system for s, _ in principal.app_roles)


def authorize(principal: Principal, action: Action, system: str, app: str | None = None) -> None:
    """Raise :class:`Hidden` (a :class:`NotFound`) if the target is invisible to the caller,
    :class:`Forbidden` if the caller's role there does not allow ``action``.

    With ``app`` the target is that application (and what is under it); without, the system itself.
    """
    if not can_see(principal, system, app):
        what = f"application {app!r} does not exist in {system!r}" if app else f"system {system!r} does not exist"
        if app and not can_see(principal, system):
            what = f"system {system!r} does not exist"
        raise Hidden(what)
    role = role_in(principal, system, app)
    if role is None:  # sees the system through a role in one of its applications only
        if action == "read":
            return
        raise Forbidden(f"you have no role in system {system!r} itself, only in some of its applications")
    if action not in _ALLOWED[role]:
        where = f"application {system}/{app}" if app else f"system {system!r}"
        raise Forbidden(f"your role {role!r} in {where} does not allow {action!r}")


def require_admin(principal: Principal, what: str) -> None:
    if not principal.admin:
        raise Forbidden(f"{what} needs a platform admin")


def may_grant(principal: Principal, system: str, app: str | None, role: Role) -> None:
    """Whether the caller may bind (or unbind) ``role`` on ``system`` (or ``app`` in it).

    Managing members needs ``manage`` on the binding's scope, i.e. being its owner, and owner is the
    highest role: so nobody grants more than they hold, and an application's owner cannot grant a
    system-wide role. Raises like :func:`authorize`.
    """
    if role not in ROLES:
        raise InvalidInput("role", f"role must be one of {', '.join(ROLES)} (got {role!r})")
    authorize(principal, "manage", system, app)
