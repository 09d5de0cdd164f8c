"""Releases' state. The runner and the API write different columns with targeted updates, so a
command given while the runner records a step is never lost."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.adapters.db.tables import ReleaseRow
from dockyard.domain.model import GroupPath
from dockyard.domain.release import ENDED, Release, group_instances, rescale, takes_total


class Releases:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, release: Release) -> None:
        now = dt.datetime.now(dt.UTC)
        self._session.add(
            ReleaseRow(
                id=release.id,
                system=release.system,
                app=release.app,
                group=release.group,
                strategy=release.strategy,
                stable_version=release.stable_version,
                new_version=release.new_version,
                total=release.total,
                steps=list(release.steps),
                step=release.step,
                status=release.status,
                paused=release.paused,
                command="",
                pause_until=None,
                ledger=list(release.ledger),
                error="",
                created_by=release.created_by,
                created_at=now,
                updated_at=now,
                clusters=list(release.clusters),
                cluster_index=release.cluster_index,
            )
        )
        await self._session.flush()

    async def get(self, release_id: str) -> Release | None:
        row = await self._session.get(ReleaseRow, release_id, populate_existing=True)
        return _release(row) if row else None

    async def of_group(self, path: GroupPath, *, limit: int = 50) -> list[Release]:
        rows = await self._session.scalars(
            select(ReleaseRow)
            .where(ReleaseRow.system == path.system, ReleaseRow.app == path.app, ReleaseRow.group == path.group)
            .order_by(ReleaseRow.created_at.desc())
            .limit(limit)
        )
        return [_release(r) for r in rows]

    async def active(self) -> list[Release]:
        """Every release not ended, of every group, oldest first."""
        rows = await self._session.scalars(
            select(ReleaseRow).where(ReleaseRow.status.not_in(ENDED)).order_by(ReleaseRow.created_at)
        )
        return [_release(r) for r in rows]

    async def record(
        self,
        release_id: str,
        *,
        step: int | None = None,
        status: str | None = None,
        pause_until: dt.datetime | bool | None = False,
        entry: dict[str, Any] | None = None,
        error: str | None = None,
        cluster_index: int | None = None,
        total: int | None = None,
    ) -> None:
        """The runner's write: where the release is, and one more ledger entry (never its commands). A
        new ``cluster_index`` without ``total`` takes that cluster's count from the release's clusters."""
        row = await self._session.get(ReleaseRow, release_id, populate_existing=True, with_for_update=True)
        assert row is not None
        values: dict[str, Any] = {"updated_at": dt.datetime.now(dt.UTC)}
        if step is not None:
            values["step"] = step
        if status is not None:
            values["status"] = status
        if pause_until is not False:
            values["pause_until"] = pause_until
        if error is not None:
            values["error"] = error
        if cluster_index is not None:
            values["cluster_index"] = cluster_index
            if total is None:  # read under the row's lock: a count a scale gives meanwhile is not lost
                total = int(row.clusters[cluster_index]["instances"])
        if total is not None:
            values["total"] = total
        if entry is not None:
            values["ledger"] = [*row.ledger, entry]
        await self._session.execute(
            update(ReleaseRow)
            .where(ReleaseRow.id == release_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )

    async def command(self, release_id: str, *, command: str | None = None, paused: bool | None = None) -> bool:
        """The API's write: a command for the runner, or pause/resume; False if the release ended."""
        values: dict[str, Any] = {"updated_at": dt.datetime.now(dt.UTC)}
        if command is not None:
            values["command"] = command
        if paused is not None:
            values["paused"] = paused
        done = await self._session.execute(
            update(ReleaseRow)
            .where(ReleaseRow.id == release_id, ReleaseRow.status.not_in(ENDED))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return bool(done.rowcount)  # type: ignore[attr-defined]

    async def set_total(
        self, release_id: str, total: int, *, by: str, clusters: Mapping[str, int] | None = None
    ) -> bool:
        """A new instance count for a running gray or blue-green release, recorded in its ledger as a
        ``scale`` entry by ``by`` (from, to); False if it cannot take one (domain/release.py
        :func:`takes_total`: ended, aborting, an abort given, or rolling). A release across clusters
        takes ``clusters``, the new count of each of its clusters (adding up to ``total``): they are
        recorded in its clusters, the one under way's as its ``total`` (domain/release.py
        :func:`rescale`), and per cluster in the entry; without them (or with others than its
        clusters) it takes none."""
        row = await self._session.get(ReleaseRow, release_id, populate_existing=True, with_for_update=True)
        if row is None or not takes_total(release := _release(row)):
            return False
        entry: dict[str, Any] = {"at": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"), "event": "scale"}
        if row.clusters:
            if clusters is None or sum(clusters.values()) != total:
                return False
            try:
                rescaled = rescale(release, clusters)
            except ValueError:
                return False
            entry |= {"by": by, "from": group_instances(release), "to": total, "clusters": rescaled.changes}
            row.clusters = list(rescaled.clusters)
            row.total = rescaled.total
        else:
            entry |= {"by": by, "from": row.total, "to": total}
            row.total = total
        row.ledger = [*row.ledger, entry]
        row.updated_at = dt.datetime.now(dt.UTC)
        await self._session.flush()
        return True

    async def take_command(self, release_id: str, command: str) -> bool:
        """Clear ``command`` if it is the one pending; True if this call took it."""
        done = await self._session.execute(
            update(ReleaseRow)
            .where(ReleaseRow.id == release_id, ReleaseRow.command == command)
            .values(command="")
            .execution_options(synchronize_session=False)
        )
        return bool(done.rowcount)  # type: ignore[attr-defined]


def _release(row: ReleaseRow) -> Release:
    return Release(
        id=row.id,
        system=row.system,
        app=row.app,
        group=row.group,
        strategy=row.strategy,
        stable_version=row.stable_version,
        new_version=row.new_version,
        total=row.total,
        steps=tuple(row.steps),
        step=row.step,
        status=row.status,
        paused=row.paused,
        command=row.command,
        pause_until=row.pause_until,
        ledger=tuple(row.ledger),
        error=row.error,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
        clusters=tuple(row.clusters or ()),
        cluster_index=row.cluster_index,
    )
