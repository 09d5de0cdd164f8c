"""Notification channels of a system: webhook (signed JSON) and e-mail.

Contracts: listing needs ``read`` on the system; adding, removing and sending a test need
``manage`` (its owner). A webhook channel's secret (16 to 200 characters, given by the owner) is
sealed at rest and never shown again: answers say only whether one is set. Two channels of one name
in a system: 409. A test is sent at once through the same job as alerts and its outcome answered.
A webhook whose host is or resolves to an internal address (loopback, link-local, private) is refused
(422 naming ``target``) unless the administrator allowed its network (``channel_allowed_networks``;
services/egress.py): no SSRF through a channel.
"""

from __future__ import annotations

import datetime as dt

from dockyard.domain.access import Principal, authorize
from dockyard.domain.alerts import Channel, Delivery, check_channel
from dockyard.domain.errors import InvalidInput, NotFound
from dockyard.services import egress, notifications
from dockyard.services.platform import Platform
from dockyard.services.workers import runner_id


async def add(
    platform: Platform, by: Principal, system: str, *, name: str, kind: str, target: str, secret: str | None
) -> Channel:
    authorize(by, "manage", system)
    name, checked_kind, target = check_channel(name, kind, target)
    if checked_kind == "webhook":
        if not isinstance(secret, str) or not 16 <= len(secret) <= 200:
            raise InvalidInput("secret", "a webhook channel needs a secret of 16 to 200 characters to sign with")
        problem = await egress.webhook_problem(platform, target)
        if problem:
            raise InvalidInput("target", f"{problem}: webhooks may not reach internal networks")
        sealed = platform.box.seal(secret)
    elif secret:
        raise InvalidInput("secret", "only webhook channels have a secret")
    else:
        sealed = ""
    async with platform.db.unit_of_work() as uow:
        return await uow.alerts.add_channel(
            system, name, checked_kind, target, secret=sealed, by=by.name, now=dt.datetime.now(dt.UTC)
        )


async def of_system(platform: Platform, by: Principal, system: str) -> list[Channel]:
    authorize(by, "read", system)
    async with platform.db.unit_of_work() as uow:
        if await uow.systems.get(system) is None:
            raise NotFound(f"system {system!r} does not exist")
        return await uow.alerts.channels(system)


async def remove(platform: Platform, by: Principal, system: str, name: str) -> None:
    authorize(by, "manage", system)
    async with platform.db.unit_of_work() as uow:
        if not await uow.alerts.delete_channel(system, name):
            raise NotFound(f"system {system!r} has no channel {name!r}")


async def send_test(platform: Platform, by: Principal, system: str, name: str) -> Delivery:
    """Send a test notification through the channel now; the delivery as it ended (sent, or pending
    with the error of its first attempt: the notifier retries it)."""
    authorize(by, "manage", system)
    async with platform.db.unit_of_work() as uow:
        found = {c.name: c for c in await uow.alerts.channels(system)}.get(name)
        if found is None:
            raise NotFound(f"system {system!r} has no channel {name!r}")
        job = await uow.alerts.add_test(found, now=dt.datetime.now(dt.UTC))
    me = runner_id()
    async with platform.db.unit_of_work() as uow:
        claimed = await uow.alerts.claim(job, me, seconds=60.0, now=dt.datetime.now(dt.UTC))
    if claimed:
        await notifications.deliver(platform, job, me)
    async with platform.db.unit_of_work() as uow:
        loaded = await uow.alerts.job(job)
    assert loaded is not None
    return loaded[0]
