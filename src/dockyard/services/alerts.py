"""Alerts received from Alertmanager and their history per system.

Contracts: :func:`receive` takes Alertmanager's webhook body with the credential it presented; no
credential, a wrong one, or none configured is :class:`Unauthenticated` (401), a malformed body an
:class:`InvalidInput`. Each alert is recorded as an episode (fingerprint and start) and what its
system's channels are to be told is queued in the same transaction (each kind once per episode and
channel, so a repeated delivery notifies nobody twice); the notifier sends them (services/notifications.py).
Reading the history needs ``read`` on the system (404 for a caller who cannot see it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from dockyard.domain.access import Principal, authorize
from dockyard.domain.alerts import Alert, Delivery, parse_webhook
from dockyard.domain.errors import InvalidInput, NotFound, Unauthenticated
from dockyard.services.platform import Platform

STATUSES = ("firing", "resolved")


@dataclass(frozen=True)
class Told:
    """An alert episode and who was told what of it."""

    alert: Alert
    deliveries: list[Delivery]


async def receive(platform: Platform, credential: str | None, body: Any) -> int:
    """Record a webhook delivery; the number of notifications queued."""
    expected = platform.config.alerts.webhook_token_sha256
    given = hashlib.sha256((credential or "").encode()).hexdigest()
    if not expected or not credential or not hmac.compare_digest(given, expected):
        raise Unauthenticated("the Alertmanager webhook needs its own credential (Authorization: Bearer)")
    received = parse_webhook(body)
    now = dt.datetime.now(dt.UTC)
    queued = 0
    async with platform.db.unit_of_work() as uow:
        channels: dict[str, int] = {}
        for alert in received:
            _, kinds = await uow.alerts.receive(alert, now=now)
            if kinds:
                if alert.system not in channels:
                    channels[alert.system] = len(await uow.alerts.channels(alert.system)) if alert.system else 0
                queued += len(kinds) * channels[alert.system]
    if queued:
        platform.notifications_added.set()
    return queued


async def history(platform: Platform, by: Principal, system: str, *, status: str | None = None) -> list[Told]:
    """The system's alert episodes, newest first, each with who was told what."""
    authorize(by, "read", system)
    if status is not None and status not in STATUSES:
        raise InvalidInput("status", "must be firing or resolved")
    async with platform.db.unit_of_work() as uow:
        if await uow.systems.get(system) is None:
            raise NotFound(f"system {system!r} does not exist")
        alerts = await uow.alerts.history(system, status=status)
        deliveries = await uow.alerts.deliveries(system, [a.id for a in alerts]) if alerts else []
    by_alert: dict[int, list[Delivery]] = {}
    for d in deliveries:
        by_alert.setdefault(d.alert_id or 0, []).append(d)
    return [Told(a, by_alert.get(a.id, [])) for a in alerts]


async def show(platform: Platform, by: Principal, system: str, alert_id: int) -> Told:
    authorize(by, "read", system)
    async with platform.db.unit_of_work() as uow:
        alert = await uow.alerts.get(system, alert_id)
        if alert is None:
            raise NotFound(f"system {system!r} has no alert {alert_id}")
        return Told(alert, await uow.alerts.deliveries(system, [alert_id]))
