"""Login sessions (refresh tokens, stored as SHA-256) and failed-login counters."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.adapters.db.tables import LoginFailureRow, SessionRow, UserRow
from dockyard.domain.errors import NotFound
from dockyard.domain.login import Failures, SessionRecord


class Sessions:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, *, session_id: str, user: str, family: str, token_hash: str, expires_at: dt.datetime) -> None:
        user_id = await self._session.scalar(select(UserRow.id).where(UserRow.name == user))
        if user_id is None:
            raise NotFound(f"user {user!r} does not exist")
        self._session.add(
            SessionRow(
                id=session_id,
                user_id=user_id,
                family=family,
                token_hash=token_hash,
                created_at=dt.datetime.now(dt.UTC),
                expires_at=expires_at,
            )
        )
        await self._session.flush()

    async def by_token(self, token_hash: str) -> SessionRecord | None:
        found = await self._session.execute(
            select(SessionRow, UserRow.name)
            .join(UserRow, UserRow.id == SessionRow.user_id)
            .where(SessionRow.token_hash == token_hash)
        )
        row = found.first()
        if row is None:
            return None
        s, user = row
        return SessionRecord(s.id, user, s.family, s.expires_at, s.replaced_at, s.revoked_at)

    async def replace(self, session_id: str, now: dt.datetime) -> bool:
        """Mark a live session replaced by its successor; False if it was already replaced or revoked
        (a concurrent refresh won, or the token was reused)."""
        done = await self._session.execute(
            update(SessionRow)
            .where(SessionRow.id == session_id, SessionRow.replaced_at.is_(None), SessionRow.revoked_at.is_(None))
            .values(replaced_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(done.rowcount)  # type: ignore[attr-defined]

    async def revoke_family(self, family: str, now: dt.datetime) -> None:
        await self._session.execute(
            update(SessionRow)
            .where(SessionRow.family == family, SessionRow.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )

    async def revoke_user(self, user: str, now: dt.datetime) -> None:
        user_id = select(UserRow.id).where(UserRow.name == user).scalar_subquery()
        await self._session.execute(
            update(SessionRow)
            .where(SessionRow.user_id == user_id, SessionRow.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )

    # failed logins -------------------------------------------------------------------------------
    async def failures(self, key: str) -> Failures | None:
        row = await self._session.get(LoginFailureRow, key)
        return Failures(row.count, row.since) if row else None

    async def set_failures(self, key: str, failures: Failures) -> None:
        row = await self._session.get(LoginFailureRow, key)
        if row is None:
            self._session.add(LoginFailureRow(key=key, count=failures.count, since=failures.since))
        else:
            row.count, row.since = failures.count, failures.since
        await self._session.flush()

    async def clear_failures(self, key: str) -> None:
        await self._session.execute(delete(LoginFailureRow).where(LoginFailureRow.key == key))
