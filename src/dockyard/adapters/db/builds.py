"""Build rows and their log lines. State changes are conditional updates, so a cancel and the runner's
next step never overwrite each other, and an ended build never changes again."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.adapters.db.tables import BuildLogRow, BuildRow
from dockyard.domain.builds import ENDED, RUNNING, Build, Source
from dockyard.domain.model import AppPath


class Builds:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, build: Build) -> None:
        self._session.add(
            BuildRow(
                id=build.id,
                system=build.system,
                app=build.app,
                source=build.source.url,
                ref_kind=build.source.ref_kind,
                ref=build.source.ref,
                dockerfile=build.source.dockerfile,
                build_args=[list(a) for a in build.build_args],
                force=build.force,
                timeout_seconds=build.timeout_seconds,
                status=build.status,
                commit="",
                image="",
                tag="",
                reason="",
                reused_from="",
                cancel_requested=False,
                runner="",
                created_by=build.created_by,
                created_at=dt.datetime.now(dt.UTC),
            )
        )
        await self._session.flush()

    async def get(self, build_id: str) -> Build | None:
        row = await self._session.get(BuildRow, build_id, populate_existing=True)
        return _build(row) if row else None

    async def of_app(self, app: AppPath, *, limit: int = 100) -> list[Build]:
        rows = await self._session.scalars(
            select(BuildRow)
            .where(BuildRow.system == app.system, BuildRow.app == app.app)
            .order_by(BuildRow.created_at.desc())
            .limit(limit)
        )
        return [_build(r) for r in rows]

    async def unfinished(self) -> list[Build]:
        rows = await self._session.scalars(
            select(BuildRow).where(BuildRow.status.not_in(ENDED)).order_by(BuildRow.created_at)
        )
        return [_build(r) for r in rows]

    async def succeeded_for(
        self, system: str, app: str, commit: str, dockerfile: str, args: Sequence[Any]
    ) -> Build | None:
        """The newest succeeded build of the same commit, Dockerfile and build args, if any."""
        rows = await self._session.scalars(
            select(BuildRow)
            .where(
                BuildRow.system == system,
                BuildRow.app == app,
                BuildRow.commit == commit,
                BuildRow.dockerfile == dockerfile,
                BuildRow.status == "succeeded",
            )
            .order_by(BuildRow.created_at.desc())
        )
        wanted = [list(a) for a in args]
        for row in rows:
            if row.build_args == wanted:
                return _build(row)
        return None

    async def claim(self, build_id: str, runner: str, *, seconds: float) -> bool:
        """Take (or renew) the lease of an unfinished build; one conditional update, so of two runners
        exactly one wins. A build whose runner died (lease expired while running) is not claimable by
        this: see :meth:`interrupted`."""
        now = dt.datetime.now(dt.UTC)
        done = await self._session.execute(
            update(BuildRow)
            .where(
                BuildRow.id == build_id,
                BuildRow.status.not_in(ENDED),
                or_(
                    BuildRow.runner == runner,
                    (BuildRow.status == "queued") & (or_(BuildRow.lease_until.is_(None), BuildRow.lease_until < now)),
                ),
            )
            .values(runner=runner, lease_until=now + dt.timedelta(seconds=seconds))
            .execution_options(synchronize_session=False)
        )
        return bool(done.rowcount)  # type: ignore[attr-defined]

    async def running_count(self, runner: str) -> int:
        count = await self._session.scalar(
            select(func.count()).select_from(BuildRow).where(BuildRow.runner == runner, BuildRow.status.in_(RUNNING))
        )
        return int(count or 0)

    async def interrupted(self) -> list[str]:
        """Builds in a running state whose runner's lease has expired: their runner is gone."""
        now = dt.datetime.now(dt.UTC)
        rows = await self._session.scalars(
            select(BuildRow.id).where(BuildRow.status.in_(RUNNING), BuildRow.lease_until < now)
        )
        return list(rows)

    async def move(self, build_id: str, frm: str, to: str, **values: Any) -> bool:
        """``frm`` → ``to`` with ``values``; False (no change) if the build is no longer in ``frm``."""
        now = dt.datetime.now(dt.UTC)
        extra: dict[str, Any] = dict(values)
        if frm == "queued":
            extra["started_at"] = now
        if to in ENDED:
            extra["finished_at"] = now
            extra.setdefault("lease_until", None)
        done = await self._session.execute(
            update(BuildRow)
            .where(BuildRow.id == build_id, BuildRow.status == frm)
            .values(status=to, **extra)
            .execution_options(synchronize_session=False)
        )
        return bool(done.rowcount)  # type: ignore[attr-defined]

    async def set_commit(self, build_id: str, commit: str) -> None:
        await self._session.execute(
            update(BuildRow)
            .where(BuildRow.id == build_id)
            .values(commit=commit)
            .execution_options(synchronize_session=False)
        )

    async def request_cancel(self, build_id: str) -> bool:
        done = await self._session.execute(
            update(BuildRow)
            .where(BuildRow.id == build_id, BuildRow.status.not_in(ENDED))
            .values(cancel_requested=True)
            .execution_options(synchronize_session=False)
        )
        return bool(done.rowcount)  # type: ignore[attr-defined]

    async def append_log(self, build_id: str, first_seq: int, lines: Sequence[str]) -> None:
        for i, line in enumerate(lines):
            self._session.add(BuildLogRow(build_id=build_id, seq=first_seq + i, line=line))
        await self._session.flush()

    async def log_lines(self, build_id: str, *, after: int = 0, limit: int = 5000) -> list[tuple[int, str]]:
        rows = await self._session.execute(
            select(BuildLogRow.seq, BuildLogRow.line)
            .where(BuildLogRow.build_id == build_id, BuildLogRow.seq > after)
            .order_by(BuildLogRow.seq)
            .limit(limit)
        )
        return [(int(seq), str(line)) for seq, line in rows]

    async def last_seq(self, build_id: str) -> int:
        found = await self._session.scalar(select(func.max(BuildLogRow.seq)).where(BuildLogRow.build_id == build_id))
        return int(found or 0)

    async def forget_app(self, app: AppPath) -> None:
        await self._session.execute(delete(BuildRow).where(BuildRow.system == app.system, BuildRow.app == app.app))


def _build(row: BuildRow) -> Build:
    return Build(
        id=row.id,
        system=row.system,
        app=row.app,
        source=Source(url=row.source, ref_kind=row.ref_kind, ref=row.ref, dockerfile=row.dockerfile),  # type: ignore[arg-type]
        build_args=tuple((str(a[0]), str(a[1])) for a in row.build_args),
        force=row.force,
        timeout_seconds=row.timeout_seconds,
        status=row.status,  # type: ignore[arg-type]
        created_by=row.created_by,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        commit=row.commit,
        image=row.image,
        tag=row.tag,
        reason=row.reason,
        reused_from=row.reused_from,
        cancel_requested=row.cancel_requested,
    )
