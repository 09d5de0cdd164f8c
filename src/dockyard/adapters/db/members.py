"""Role bindings: who holds which role in which system or application."""

from __future__ import annotations

from typing import cast

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.adapters.db.tables import ApplicationRow, RoleBindingRow, SystemRow, UserRow
from dockyard.domain.access import Binding, Role
from dockyard.domain.errors import InvalidInput, NotFound


class Members:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def of_system(self, system: str) -> list[Binding]:
        rows = await self._session.execute(
            select(UserRow.name, RoleBindingRow.scope, RoleBindingRow.role, RoleBindingRow.granted_by)
            .join(RoleBindingRow, RoleBindingRow.user_id == UserRow.id)
            .join(SystemRow, SystemRow.id == RoleBindingRow.system_id)
            .where(SystemRow.name == system)
            .order_by(RoleBindingRow.scope, UserRow.name)
        )
        return [Binding(u, system, scope or None, cast(Role, role), by) for u, scope, role, by in rows.all()]

    async def bind(self, binding: Binding) -> bool:
        """Give the binding's user its role in its scope (replacing a role held there); True if new.

        :class:`InvalidInput` (field ``user``) for an unknown user, :class:`NotFound` for a missing
        system or application."""
        user_id = await self._session.scalar(select(UserRow.id).where(UserRow.name == binding.user))
        if user_id is None:
            raise InvalidInput("user", f"user {binding.user!r} does not exist")
        system_id, app_id = await self._scope_ids(binding.system, binding.app)
        row = await self._session.scalar(
            select(RoleBindingRow).where(
                RoleBindingRow.user_id == user_id,
                RoleBindingRow.system_id == system_id,
                RoleBindingRow.scope == (binding.app or ""),
            )
        )
        if row is not None:
            row.role, row.granted_by = binding.role, binding.granted_by
            await self._session.flush()
            return False
        self._session.add(
            RoleBindingRow(
                user_id=user_id,
                system_id=system_id,
                scope=binding.app or "",
                application_id=app_id,
                role=binding.role,
                granted_by=binding.granted_by,
            )
        )
        await self._session.flush()
        return True

    async def unbind(self, user: str, system: str, app: str | None) -> None:
        """Remove ``user``'s role in the scope; :class:`NotFound` if they hold none there."""
        system_id, _ = await self._scope_ids(system, app)
        user_id = await self._session.scalar(select(UserRow.id).where(UserRow.name == user))
        done = await self._session.execute(
            delete(RoleBindingRow).where(
                RoleBindingRow.user_id == (user_id if user_id is not None else -1),
                RoleBindingRow.system_id == system_id,
                RoleBindingRow.scope == (app or ""),
            )
        )
        if not done.rowcount:  # type: ignore[attr-defined]
            where = f"{system}/{app}" if app else system
            raise NotFound(f"user {user!r} has no role in {where}")

    async def _scope_ids(self, system: str, app: str | None) -> tuple[int, int | None]:
        system_id = await self._session.scalar(select(SystemRow.id).where(SystemRow.name == system))
        if system_id is None:
            raise NotFound(f"system {system!r} does not exist")
        if app is None:
            return system_id, None
        app_id = await self._session.scalar(
            select(ApplicationRow.id).where(ApplicationRow.system_id == system_id, ApplicationRow.name == app)
        )
        if app_id is None:
            raise NotFound(f"application {app!r} does not exist in {system!r}")
        return system_id, app_id
