"""Users and their personal API tokens. Tokens are looked up by their SHA-256; the token is never stored."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.adapters.db.tables import TokenRow, UserRow
from dockyard.domain.errors import Conflict, NotFound


@dataclass(frozen=True)
class UserRecord:
    name: str
    admin: bool


@dataclass(frozen=True)
class TokenRecord:
    id: str
    user: str
    name: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None


class Identities:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_user(self, name: str, *, admin: bool) -> None:
        if await self._user_row(name) is not None:
            raise Conflict(f"user {name!r} already exists")
        self._session.add(UserRow(name=name, admin=admin))
        await self._session.flush()

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

    async def user_of_token(self, token_hash: str, *, now: dt.datetime) -> UserRecord | None:
        """The owner of a token that exists, is not revoked and has not expired at ``now``."""
        found = await self._session.execute(
            select(UserRow.name, UserRow.admin, TokenRow.expires_at, TokenRow.revoked_at)
            .join(TokenRow, TokenRow.user_id == UserRow.id)
            .where(TokenRow.token_hash == token_hash)
        )
        row = found.first()
        if row is None or row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
            return None
        return UserRecord(row.name, row.admin)

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
