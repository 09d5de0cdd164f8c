"""Alert history, notification channels and the notifications to send (domain/alerts.py)."""

from __future__ import annotations

import datetime as dt
from typing import cast

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.adapters.db.tables import AlertRow, ChannelRow, NotificationRow, SystemRow
from dockyard.domain.alerts import Alert, Channel, ChannelKind, Delivery, Received, Status, to_tell
from dockyard.domain.errors import NotFound


class Alerts:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    # --- history ----------------------------------------------------------------------------------

    async def receive(self, received: Received, *, now: dt.datetime) -> tuple[Alert, list[Status]]:
        """Record one received alert (a new episode, or its new status) and queue what its system's
        channels are to be told (each kind once per episode); returns the episode and those kinds."""
        row = await self._session.scalar(
            select(AlertRow).where(
                AlertRow.fingerprint == received.fingerprint, AlertRow.starts_at == received.starts_at
            )
        )
        labels = received.labels
        if row is None:
            row = AlertRow(
                fingerprint=received.fingerprint,
                starts_at=received.starts_at,
                system=labels.get("system", "")[:63],
                app=labels.get("app", "")[:63],
                group_name=labels.get("group", "")[:63],
                name=labels["alertname"][:200],
                labels=labels,
                told=[],
                received_at=now,
            )
            self._session.add(row)
        row.status = received.status
        row.annotations = received.annotations
        row.ends_at = received.ends_at if received.status == "resolved" else None
        row.updated_at = now
        kinds = to_tell(frozenset(row.told), received.status)
        if kinds:
            row.told = [*row.told, *kinds]
        await self._session.flush()
        if kinds:
            channels = await self._session.scalars(
                select(ChannelRow.id)
                .join(SystemRow, ChannelRow.system_id == SystemRow.id)
                .where(SystemRow.name == row.system)
                .order_by(ChannelRow.id)
            )
            for channel_id in channels:
                for kind in kinds:
                    self._session.add(_job(row.id, channel_id, kind, now))
            await self._session.flush()
        return _alert(row), kinds

    async def history(self, system: str, *, status: str | None = None, limit: int = 200) -> list[Alert]:
        """The system's alert episodes, newest first (``status``: only firing or resolved ones)."""
        query = select(AlertRow).where(AlertRow.system == system)
        if status is not None:
            query = query.where(AlertRow.status == status)
        rows = await self._session.scalars(query.order_by(AlertRow.starts_at.desc(), AlertRow.id.desc()).limit(limit))
        return [_alert(r) for r in rows]

    async def get(self, system: str, alert_id: int) -> Alert | None:
        row = await self._session.scalar(select(AlertRow).where(AlertRow.system == system, AlertRow.id == alert_id))
        return _alert(row) if row else None

    async def deliveries(self, system: str, alert_ids: list[int] | None = None, *, limit: int = 1000) -> list[Delivery]:
        """Who was told (or is to be told) what, of the system's alerts (``alert_ids``) or tests."""
        query = (
            select(NotificationRow, ChannelRow.name)
            .join(ChannelRow, NotificationRow.channel_id == ChannelRow.id)
            .join(SystemRow, ChannelRow.system_id == SystemRow.id)
            .where(SystemRow.name == system)
        )
        if alert_ids is not None:
            query = query.where(NotificationRow.alert_id.in_(alert_ids))
        rows = (await self._session.execute(query.order_by(NotificationRow.id).limit(limit))).all()
        return [_delivery(n, name) for n, name in rows]

    # --- channels ---------------------------------------------------------------------------------

    async def add_channel(
        self, system: str, name: str, kind: ChannelKind, target: str, *, secret: str, by: str, now: dt.datetime
    ) -> Channel:
        """Add a channel; a second of the same name is a ``DatabaseConflict``."""
        system_id = await self._session.scalar(select(SystemRow.id).where(SystemRow.name == system))
        if system_id is None:
            raise NotFound(f"system {system!r} does not exist")
        row = ChannelRow(
            system_id=system_id, name=name, kind=kind, target=target, secret=secret, created_by=by, created_at=now
        )
        self._session.add(row)
        await self._session.flush()
        return _channel(system, row)

    async def channels(self, system: str) -> list[Channel]:
        rows = await self._session.scalars(
            select(ChannelRow)
            .join(SystemRow, ChannelRow.system_id == SystemRow.id)
            .where(SystemRow.name == system)
            .order_by(ChannelRow.name)
        )
        return [_channel(system, r) for r in rows]

    async def delete_channel(self, system: str, name: str) -> bool:
        system_id = await self._session.scalar(select(SystemRow.id).where(SystemRow.name == system))
        if system_id is None:
            return False
        result = await self._session.execute(
            delete(ChannelRow).where(ChannelRow.system_id == system_id, ChannelRow.name == name)
        )
        return bool(getattr(result, "rowcount", 0))

    # --- notifications (the job) ------------------------------------------------------------------

    async def add_test(self, channel: Channel, *, now: dt.datetime) -> int:
        """Queue a test notification to ``channel``; its id."""
        row = _job(None, channel.id, "test", now)
        self._session.add(row)
        await self._session.flush()
        return row.id

    async def due(self, *, now: dt.datetime, limit: int = 100) -> list[int]:
        """Pending notifications whose time has come and that no live lease holds, oldest first."""
        rows = await self._session.scalars(
            select(NotificationRow.id)
            .where(
                NotificationRow.state == "pending",
                NotificationRow.next_at <= now,
                or_(NotificationRow.lease_until.is_(None), NotificationRow.lease_until < now),
            )
            .order_by(NotificationRow.id)
            .limit(limit)
        )
        return list(rows)

    async def claim(self, notification_id: int, runner: str, *, seconds: float, now: dt.datetime) -> bool:
        """Take (or renew) the lease of a pending notification; False if another runner holds it."""
        result = await self._session.execute(
            update(NotificationRow)
            .where(
                NotificationRow.id == notification_id,
                NotificationRow.state == "pending",
                or_(
                    NotificationRow.lease_until.is_(None),
                    NotificationRow.lease_until < now,
                    NotificationRow.lease_owner == runner,
                ),
            )
            .values(lease_owner=runner, lease_until=now + dt.timedelta(seconds=seconds))
        )
        return bool(getattr(result, "rowcount", 0))

    async def job(self, notification_id: int) -> tuple[Delivery, Channel, Alert | None] | None:
        """A notification with its channel and its alert (None for a test)."""
        found = (
            await self._session.execute(
                select(NotificationRow, ChannelRow, SystemRow.name)
                .join(ChannelRow, NotificationRow.channel_id == ChannelRow.id)
                .join(SystemRow, ChannelRow.system_id == SystemRow.id)
                .where(NotificationRow.id == notification_id)
            )
        ).first()
        if found is None:
            return None
        notification, channel, system = found
        alert = None
        if notification.alert_id is not None:
            row = await self._session.get(AlertRow, notification.alert_id)
            alert = _alert(row) if row else None
        return _delivery(notification, channel.name), _channel(system, channel), alert

    async def finish(
        self, notification_id: int, runner: str, *, error: str, retry_at: dt.datetime | None, now: dt.datetime
    ) -> bool:
        """Record an attempt by the lease holder: sent (``error`` ""), to retry at ``retry_at``, or
        failed for good (``retry_at`` None); False if this runner no longer holds the lease."""
        state = "sent" if not error else ("pending" if retry_at else "failed")
        row = await self._session.get(NotificationRow, notification_id)
        if row is None or row.lease_owner != runner or row.state != "pending":
            return False
        row.attempts += 1
        row.state, row.error, row.lease_until = state, error[:2000], None
        row.next_at = retry_at or now
        row.sent_at = now if state == "sent" else None
        await self._session.flush()
        return True


def _job(alert_id: int | None, channel_id: int, kind: str, now: dt.datetime) -> NotificationRow:
    return NotificationRow(
        alert_id=alert_id,
        channel_id=channel_id,
        kind=kind,
        state="pending",
        attempts=0,
        next_at=now,
        lease_owner="",
        error="",
        created_at=now,
    )


def _alert(row: AlertRow) -> Alert:
    return Alert(
        id=row.id,
        fingerprint=row.fingerprint,
        system=row.system,
        app=row.app,
        group=row.group_name,
        name=row.name,
        status=cast(Status, row.status),
        labels=dict(row.labels),
        annotations=dict(row.annotations),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        received_at=row.received_at,
        updated_at=row.updated_at,
    )


def _channel(system: str, row: ChannelRow) -> Channel:
    return Channel(
        id=row.id,
        system=system,
        name=row.name,
        kind=cast(ChannelKind, row.kind),
        target=row.target,
        secret=row.secret,
        created_by=row.created_by,
        created_at=row.created_at,
    )


def _delivery(row: NotificationRow, channel: str) -> Delivery:
    return Delivery(
        id=row.id,
        alert_id=row.alert_id,
        channel=channel,
        kind=row.kind,
        state=row.state,
        attempts=row.attempts,
        error=row.error,
        created_at=row.created_at,
        sent_at=row.sent_at,
    )
