"""The notifier: sends queued notifications (services/alerts.py queues them) in the background of
each server, on the leased-worker loop (services/workers.py).

Each notification is a row: claimed by lease, sent, then marked sent, or retried after
:func:`~dockyard.domain.alerts.backoff` up to :data:`~dockyard.domain.alerts.MAX_ATTEMPTS` attempts,
then failed. A server that dies mid-send leaves the lease to lapse and another (or the restarted one)
sends it: a notification is never lost, and is sent twice only if a server dies between the
receiver's answer and the commit (receivers de-duplicate by ``X-Dockyard-Delivery``). Webhook bodies
are signed with the channel's secret, opened only to sign; errors recorded never hold it. A webhook
whose host resolves to an internal address at send time (services/egress.py) is not sent: the attempt
fails with that reason.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from dockyard.domain.alerts import MAX_ATTEMPTS, SIGNATURE_HEADER, backoff, email_message, payload, sign
from dockyard.domain.failures import Failure
from dockyard.services import egress
from dockyard.services.platform import Platform
from dockyard.services.workers import Look, run_leased, runner_id

log = logging.getLogger(__name__)
LEASE = 30.0


async def run_notifier(platform: Platform, *, poll: float = 2.0, lease: float = LEASE, runner: str = "") -> None:
    """Send notifications until cancelled (what is being sent when cancelled is sent again later)."""
    work = _Notifications(platform, runner or runner_id(), lease)
    await run_leased(work, name="notification", wake=platform.notifications_added, poll=poll, renew_every=lease / 3)


@dataclass
class _Notifications:
    platform: Platform
    me: str
    lease: float

    async def look(self, running: frozenset[str]) -> Look:
        async with self.platform.db.unit_of_work() as uow:
            due = await uow.alerts.due(now=dt.datetime.now(dt.UTC))
        return Look(start=[str(i) for i in due if str(i) not in running])

    async def claim(self, item: str) -> bool:
        async with self.platform.db.unit_of_work() as uow:
            return await uow.alerts.claim(int(item), self.me, seconds=self.lease, now=dt.datetime.now(dt.UTC))

    async def renew(self, running: frozenset[str]) -> set[str]:
        lost = set()
        for item in running:
            if not await self.claim(item):
                lost.add(item)
        return lost

    async def run(self, item: str) -> object:
        await deliver(self.platform, int(item), self.me)
        return None


async def deliver(platform: Platform, notification_id: int, runner: str) -> None:
    """One attempt at a notification whose lease ``runner`` holds; records the outcome."""
    async with platform.db.unit_of_work() as uow:
        loaded = await uow.alerts.job(notification_id)
    if loaded is None:
        return
    delivery, channel, alert = loaded
    error = ""
    try:
        if platform.notifier is None:
            raise _NoNotifier("notifications are not configured in this server")
        if channel.kind == "webhook":
            problem = await egress.webhook_problem(platform, channel.target)
            if problem:
                raise _Refused(f"{problem}: not sent (webhooks may not reach internal networks)")
            body = payload(alert, delivery.kind, system=channel.system, channel=channel.name)
            signature = sign(platform.box.open(channel.secret), body)
            headers = {SIGNATURE_HEADER: signature, "X-Dockyard-Delivery": str(delivery.id)}
            await platform.notifier.post(channel.target, body, headers=headers)
        else:
            subject, text = email_message(alert, delivery.kind, system=channel.system)
            await platform.notifier.mail(channel.target.split(","), subject, text)
    except Failure as e:
        error = str(e) or type(e).__name__
        log.warning("notification %s to channel %s/%s: %s", delivery.id, channel.system, channel.name, error)
    now = dt.datetime.now(dt.UTC)
    retry_at = None
    if error and delivery.attempts + 1 < MAX_ATTEMPTS:
        retry_at = now + dt.timedelta(seconds=backoff(delivery.attempts + 1))
    async with platform.db.unit_of_work() as uow:
        await uow.alerts.finish(notification_id, runner, error=error, retry_at=retry_at, now=now)


class _NoNotifier(Failure):
    pass


class _Refused(Failure):
    pass
