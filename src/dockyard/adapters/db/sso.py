"""Console sessions of single sign-on (``sso_sessions``): the cookie's SHA-256, the user, the groups."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.adapters.db.tables import SsoSessionRow

PURGE_AFTER = dt.timedelta(days=1)  # ended or expired sessions are kept this long, then deleted


class SsoSessions:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(
        self, *, token_hash: str, user: str, groups: Sequence[str], now: dt.datetime, expires_at: dt.datetime
    ) -> None:
        self._session.add(
            SsoSessionRow(token_hash=token_hash, user=user, groups=list(groups), created_at=now, expires_at=expires_at)
        )
        await self._session.flush()

    async def live(self, token_hash: str, now: dt.datetime) -> tuple[str, list[str]] | None:
        row = await self._session.scalar(
            select(SsoSessionRow).where(
                SsoSessionRow.token_hash == token_hash,
                SsoSessionRow.ended_at.is_(None),
                SsoSessionRow.expires_at > now,
            )
        )
        return (row.user, list(row.groups)) if row is not None else None

    async def end(self, token_hash: str, now: dt.datetime) -> None:
        await self._session.execute(
            update(SsoSessionRow)
            .where(SsoSessionRow.token_hash == token_hash, SsoSessionRow.ended_at.is_(None))
            .values(ended_at=now)
        )
        await self._session.execute(
            delete(SsoSessionRow).where(
                (SsoSessionRow.expires_at < now - PURGE_AFTER) | (SsoSessionRow.ended_at < now - PURGE_AFTER)
            )
        )
