"""Resource statistics: the sampled steps, the daily rows per instance and per group, the prices.

A step is recorded once: :meth:`Statistics.add_step` inserts the step's row first, so a second
replica sampling the same step ends its unit of work in :class:`DatabaseConflictError`; the daily rows
are then added to (update, else insert) in the same transaction, instance and group rows alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.adapters.db.tables import ClusterPriceRow, StatGroupDayRow, StatInstanceDayRow, StatTickRow
from dockyard.domain.statistics import Amounts, Price, Row

_AMOUNTS = tuple(Amounts.__dataclass_fields__)


def _amounts(row: StatGroupDayRow | StatInstanceDayRow) -> Amounts:
    return Amounts(*(getattr(row, name) for name in _AMOUNTS))


class Statistics:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_step(
        self, *, at: int, step: int, measured: bool, runner: str, instances: Sequence[Row], groups: Sequence[Row]
    ) -> None:
        """Record the step starting at ``at`` and add its rows to their days (see the module)."""
        self._session.add(StatTickRow(at=at, step=step, instances=len(instances), measured=measured, runner=runner))
        await self._session.flush()
        for row in instances:
            where: tuple[Any, ...] = (
                StatInstanceDayRow.day == row.day,
                StatInstanceDayRow.cluster == row.cluster,
                StatInstanceDayRow.system == row.system,
                StatInstanceDayRow.instance == row.instance,
            )
            await self._add(StatInstanceDayRow, where, row, instance=row.instance, app=row.app, group=row.group)
        for row in groups:
            where = (
                StatGroupDayRow.day == row.day,
                StatGroupDayRow.cluster == row.cluster,
                StatGroupDayRow.system == row.system,
                StatGroupDayRow.app == row.app,
                StatGroupDayRow.group == row.group,
            )
            await self._add(StatGroupDayRow, where, row, app=row.app, group=row.group)

    async def _add(self, table: Any, where: tuple[Any, ...], row: Row, **keys: str) -> None:
        values = {name: getattr(table, name) + getattr(row.amounts, name) for name in _AMOUNTS}
        done = await self._session.execute(
            update(table).where(*where).values(**values).execution_options(synchronize_session=False)
        )
        if not done.rowcount:  # type: ignore[attr-defined]
            amounts = {name: getattr(row.amounts, name) for name in _AMOUNTS}
            self._session.add(
                table(day=row.day, cluster=row.cluster, system=row.system, idc=row.idc, **keys, **amounts)
            )
            await self._session.flush()

    async def steps(self, *, since: int, until: int) -> list[tuple[int, int, bool]]:
        """The steps recorded with a start in [since, until): (start, step, measured), in order."""
        found = await self._session.execute(
            select(StatTickRow.at, StatTickRow.step, StatTickRow.measured)
            .where(StatTickRow.at >= since, StatTickRow.at < until)
            .order_by(StatTickRow.at)
        )
        return [(at, step, measured) for at, step, measured in found.all()]

    async def group_days(self, *, first: dt.date, last: dt.date, systems: Sequence[str] | None = None) -> list[Row]:
        """Group rows of the days ``first`` to ``last`` (inclusive), of ``systems`` only when given."""
        query = select(StatGroupDayRow).where(StatGroupDayRow.day >= first, StatGroupDayRow.day <= last)
        if systems is not None:
            query = query.where(StatGroupDayRow.system.in_(list(systems)))
        rows = (await self._session.scalars(query)).all()
        return [Row(r.day, r.system, r.app, r.group, r.cluster, r.idc, amounts=_amounts(r)) for r in rows]

    async def instance_days(self, *, first: dt.date, last: dt.date, system: str, app: str, group: str) -> list[Row]:
        """One group's instance rows of the days ``first`` to ``last`` (inclusive)."""
        rows = (
            await self._session.scalars(
                select(StatInstanceDayRow).where(
                    StatInstanceDayRow.day >= first,
                    StatInstanceDayRow.day <= last,
                    StatInstanceDayRow.system == system,
                    StatInstanceDayRow.app == app,
                    StatInstanceDayRow.group == group,
                )
            )
        ).all()
        return [Row(r.day, r.system, r.app, r.group, r.cluster, r.idc, r.instance, amounts=_amounts(r)) for r in rows]

    async def prices(self) -> list[Price]:
        rows = (await self._session.scalars(select(ClusterPriceRow))).all()
        return [Price(r.cluster, r.since, Decimal(r.core_hour), Decimal(r.gib_hour)) for r in rows]

    async def set_price(self, price: Price, *, by: str) -> None:
        """Set a cluster's prices from ``price.since`` on (replacing the ones set for that same day)."""
        found = await self._session.get(ClusterPriceRow, (price.cluster, price.since))
        now = dt.datetime.now(dt.UTC)
        if found is None:
            self._session.add(
                ClusterPriceRow(
                    cluster=price.cluster,
                    since=price.since,
                    core_hour=str(price.core_hour),
                    gib_hour=str(price.gib_hour),
                    set_by=by,
                    set_at=now,
                )
            )
        else:
            found.core_hour, found.gib_hour, found.set_by, found.set_at = (
                str(price.core_hour),
                str(price.gib_hour),
                by,
                now,
            )
        await self._session.flush()
