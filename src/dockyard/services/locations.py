"""Location grants: a system asks for a location for its production groups, a platform admin approves
or revokes it.

Contracts: :func:`request` needs ``manage`` on the system (its owner) and records a ``requested``
grant; :func:`decide` (approve, revoke) needs a platform admin (everyone else gets 403), and gives
:class:`Conflict` for a grant already in that state; :func:`grants` needs ``read``. Only approved
grants count (services/where.py); revoking one stops new deploys, scales and releases of production
groups there (what runs keeps running). Every change is audited by the API.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dockyard.domain.access import Principal, authorize, require_admin
from dockyard.domain.errors import Conflict, InvalidInput, NotFound
from dockyard.domain.location import Grant, parse_location
from dockyard.domain.names import text
from dockyard.services.platform import Platform

DECISIONS = {"approve": "approved", "revoke": "revoked"}


async def request(
    platform: Platform, by: Principal, system: str, location: Mapping[str, Any], *, reason: str = ""
) -> Grant:
    authorize(by, "manage", system)
    where = parse_location(location, "location")
    if where is None:
        raise InvalidInput("location", "give the location asked for: idc, provider, region and/or clusters")
    text("reason", reason, max_length=1000)
    async with platform.db.unit_of_work() as uow:
        return await uow.locations.request(system, where, by=by.name, reason=reason)


async def grants(platform: Platform, by: Principal, system: str) -> list[Grant]:
    authorize(by, "read", system)
    async with platform.db.unit_of_work() as uow:
        if await uow.systems.get(system) is None:
            raise NotFound(f"system {system!r} does not exist")
        return await uow.locations.of_system(system)


async def decide(platform: Platform, by: Principal, system: str, grant_id: int, decision: str) -> Grant:
    require_admin(by, "approving or revoking a location grant")
    status = DECISIONS[decision]
    async with platform.db.unit_of_work() as uow:
        found = {g.id: g for g in await uow.locations.of_system(system)}.get(grant_id)
        if found is None:
            raise NotFound(f"system {system!r} has no location grant {grant_id}")
        if found.status == status or (status == "approved" and found.status == "revoked"):
            raise Conflict(f"location grant {grant_id} is {found.status}: it cannot be {status} (request it again)")
        decided = await uow.locations.decide(system, grant_id, status=status, by=by.name)
    assert decided is not None
    return decided
