"""Users, their passwords' hashes and personal API tokens. Tokens are looked up by their SHA-256; the
token is never stored. A caller is loaded with all its role bindings in one query."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.adapters.db.tables import RoleBindingRow, SystemRow, TokenRow, UserRow
from dockyard.domain.access import Principal, Role
from dockyard.domain.errors import Conflict, NotFound
from dockyard.domain.login import TokenRecord, UserRecord


class Identities:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_user(self, name: str, *, admin: bool, password_hash: str | None = None) -> None:
        if await self._user_row(name) is not None:
            raise Conflict(f"user {name!r} already exists")
        self._session.add(UserRow(name=name, admin=admin, password_hash=password_hash))
        await self._session.flush()

    async def users(self) -> list[UserRecord]:
        rows = await self._session.scalars(select(UserRow).order_by(UserRow.name))
        return [UserRecord(r.name, r.admin) for r in rows]

    async def password_hash(self, name: str) -> str | None:
        """The user's password hash; None for an unknown user or one without a password."""
        row = await self._user_row(name)
        return row.password_hash if row else None

    async def set_password(self, name: str, password_hash: str) -> None:
        row = await self._user_row(name)
        if row is None:
            raise NotFound(f"user {name!r} does not exist")
        row.password_hash = password_hash
        await self._session.flush()

    async def principal_of_token(self, token_hash: str, *, now: dt.datetime) -> Principal | None:
        """The owner of a token that exists, is not revoked and has not expired at ``now``, with its roles."""
        found = await self.token_holder(token_hash, now=now)
        return found[0] if found else None

    async def token_holder(self, token_hash: str, *, now: dt.datetime) -> tuple[Principal, dt.datetime | None] | None:
        """:meth:`principal_of_token` with the token's expiry (``None``: it never expires)."""
        query = _with_roles(
            select(UserRow.name, UserRow.admin, TokenRow.expires_at, TokenRow.revoked_at).join(
                TokenRow, TokenRow.user_id == UserRow.id
            )
        ).where(TokenRow.token_hash == token_hash)
        rows = (await self._session.execute(query)).all()
        if not rows or rows[0].revoked_at is not None or (rows[0].expires_at is not None and rows[0].expires_at <= now):
            return None
        return _principal(rows), rows[0].expires_at

    async def principal(self, name: str) -> Principal | None:
        """The user ``name`` with its roles; None if there is no such user."""
        rows = (
            await self._session.execute(_with_roles(select(UserRow.name, UserRow.admin)).where(UserRow.name == name))
        ).all()
        return _principal(rows) if rows else None

    async def count_users(self) -> int:
        return int(await self._session.scalar(select(func.count()).select_from(UserRow)) or 0)

    async def user(self, name: str) -> UserRecord | None:
        row = await self._user_row(name)
        return UserRecord(row.name, row.admin) if row else None

    async def add_token(
        self, *, token_id: str, user: str, name: str, token_hash: str, expires_at: dt.datetime | None
    ) -> TokenRecord:
        row = await self._user_row(user)
        if row is None:
            raise NotFound(f"user {user!r} does not exist")
        created = dt.datetime.now(dt.UTC)
        self._session.add(
            TokenRow(
                id=token_id, user_id=row.id, name=name, token_hash=token_hash, created_at=created, expires_at=expires_at
            )
        )
        await self._session.flush()
        return TokenRecord(token_id, user, name, created, expires_at, None)

    async def tokens(self, user: str) -> list[TokenRecord]:
        rows = await self._session.execute(
            select(TokenRow, UserRow.name)
            .join(UserRow, TokenRow.user_id == UserRow.id)
            .where(UserRow.name == user)
            .order_by(TokenRow.created_at)
        )
        return [TokenRecord(t.id, u, t.name, t.created_at, t.expires_at, t.revoked_at) for t, u in rows.all()]

    async def revoke_token(self, user: str, token_id: str) -> None:
        """Revoke one of ``user``'s tokens; :class:`NotFound` if ``user`` has no such token."""
        owner = await self._user_row(user)
        done = await self._session.execute(
            update(TokenRow)
            .where(TokenRow.id == token_id, TokenRow.user_id == (owner.id if owner else -1))
            .values(revoked_at=func.coalesce(TokenRow.revoked_at, dt.datetime.now(dt.UTC)))
            .execution_options(synchronize_session=False)
        )
        if not done.rowcount:  # type: ignore[attr-defined]
            raise NotFound(f"token {token_id!r} does not exist")

    async def _user_row(self, name: str) -> UserRow | None:
        row: UserRow | None = await self._session.scalar(select(UserRow).where(UserRow.name == name))
        return row


def _with_roles(query: Any) -> Any:
    """``query`` (on users) with one row per role binding of the user, or one row without any."""
    return (
        query.add_columns(SystemRow.name.label("system"), RoleBindingRow.scope, RoleBindingRow.role)
        .outerjoin(RoleBindingRow, RoleBindingRow.user_id == UserRow.id)
        .outerjoin(SystemRow, SystemRow.id == RoleBindingRow.system_id)
    )


def _principal(rows: Any) -> Principal:
    roles: dict[str, Role] = {}
    app_roles: dict[tuple[str, str], Role] = {}
    for row in rows:
        if row.system is None:
            continue
        if row.scope:
            app_roles[(row.system, row.scope)] = cast(Role, row.role)
        else:
            roles[row.system] = cast(Role, row.role)
    return Principal(name=rows[0].name, admin=rows[0].admin, roles=roles, app_roles=app_roles)
