"""Key checks: known texts sealed with the platform's master key (see ``KeyCheckRow``)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.adapters.db.tables import KeyCheckRow


class KeyChecks:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, name: str) -> str | None:
        token: str | None = await self._session.scalar(select(KeyCheckRow.token).where(KeyCheckRow.name == name))
        return token

    async def add(self, name: str, token: str) -> None:
        """Insert; a concurrent insert of the same name surfaces as a conflict at commit."""
        self._session.add(KeyCheckRow(name=name, token=token))
