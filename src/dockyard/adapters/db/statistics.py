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

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.adapters.db.tables import ClusterPriceRow, StatGroupDayRow, StatInstanceDayRow, StatTickRow
from dockyard.domain.statistics import Amounts, Price, Row

_AMOUNTS = tuple(Amounts.__dataclass_fields__)
_INSTANCE_KEY = ("day", "cluster", "system", "instance")
_GROUP_KEY = ("day", "cluster", "system", "app", "group")


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
        await self._add(StatInstanceDayRow, _INSTANCE_KEY, instances)
        await self._add(StatGroupDayRow, _GROUP_KEY, groups)

    async def _add(self, entity: Any, key: tuple[str, ...], rows: Sequence[Row]) -> None:
        """Add ``rows`` to their rows of ``entity`` (by the columns ``key``): one read of the keys
        there are, then one executemany of increments and one of inserts."""
        if not rows:
            return
        table = entity.__table__
        columns = [table.c[name] for name in key]
        days = sorted({r.day for r in rows if r.day is not None})
        there = {tuple(found) for found in await self._session.execute(select(*columns).where(table.c.day.in_(days)))}
        increments, inserts = [], []
        for row in rows:
            values = {name: getattr(row, name) for name in (*key, "app", "group", "idc")}
            amounts = dict(zip(_AMOUNTS, row.amounts.as_tuple(), strict=True))
            if tuple(values[name] for name in key) in there:
                increments.append({**{f"k_{n}": values[n] for n in key}, **{f"a_{n}": v for n, v in amounts.items()}})
            else:
                inserts.append({**values, **amounts})
        if increments:
            statement = (
                update(table)
                .where(*(table.c[n] == bindparam(f"k_{n}") for n in key))
                .values({n: table.c[n] + bindparam(f"a_{n}") for n in _AMOUNTS})
            )
            await self._session.execute(statement, increments)
        if inserts:
            await self._session.execute(insert(table), inserts)

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
        t = StatGroupDayRow
        amounts = [getattr(t, name) for name in _AMOUNTS]
        query = select(t.day, t.system, t.app, t.group, t.cluster, t.idc, *amounts).where(t.day >= first, t.day <= last)
        if systems is not None:
            query = query.where(t.system.in_(list(systems)))
        found = await self._session.execute(query)  # columns, not ORM objects: a report reads thousands
        return [Row(r[0], r[1], r[2], r[3], r[4], r[5], amounts=Amounts(*r[6:])) for r in found.all()]

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
