"""Placement records: pools dedicated to an application, and the CPU model chosen for an application."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.adapters.db.tables import AppCpuModelRow, DedicatedPoolRow
from dockyard.domain.model import Dedication


class Placements:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def dedications(self, cluster: str | None = None) -> list[Dedication]:
        """Every dedicated pool (of ``cluster``), by cluster then pool."""
        query = select(DedicatedPoolRow).order_by(DedicatedPoolRow.cluster, DedicatedPoolRow.pool)
        if cluster is not None:
            query = query.where(DedicatedPoolRow.cluster == cluster)
        return [_dedication(r) for r in (await self._session.scalars(query)).all()]

    async def dedication(self, cluster: str, pool: str) -> Dedication | None:
        row = await self._session.get(DedicatedPoolRow, (cluster, pool))
        return _dedication(row) if row else None

    async def dedicate(self, dedication: Dedication) -> None:
        """Record (or move) the pool's dedication."""
        row = await self._session.get(DedicatedPoolRow, (dedication.cluster, dedication.pool))
        if row is None:
            self._session.add(
                DedicatedPoolRow(
                    cluster=dedication.cluster,
                    pool=dedication.pool,
                    system=dedication.system,
                    app=dedication.app,
                    dedicated_by=dedication.by,
                    dedicated_at=dt.datetime.now(dt.UTC),
                )
            )
            return
        row.system, row.app, row.dedicated_by = dedication.system, dedication.app, dedication.by

    async def undedicate(self, cluster: str, pool: str) -> bool:
        """Forget the pool's dedication; False if it had none."""
        result = await self._session.execute(
            delete(DedicatedPoolRow).where(DedicatedPoolRow.cluster == cluster, DedicatedPoolRow.pool == pool)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def cpu_model(self, system: str, app: str) -> str | None:
        row = await self._session.get(AppCpuModelRow, (system, app))
        return row.cpu_model if row else None

    async def pin_cpu_model(self, system: str, app: str, cpu_model: str) -> None:
        """Record the application's CPU model (once: a concurrent pin is a conflict)."""
        self._session.add(
            AppCpuModelRow(system=system, app=app, cpu_model=cpu_model, chosen_at=dt.datetime.now(dt.UTC))
        )


def _dedication(row: DedicatedPoolRow) -> Dedication:
    return Dedication(cluster=row.cluster, pool=row.pool, system=row.system, app=row.app, by=row.dedicated_by)
