"""The audit trail: appending entries, reading them back, and verifying the chain.

Who may read it: platform admins everything; a system's owners the entries of that system, when they
filter by it (:func:`domain.access.authorize` with ``manage``: an invisible system is :class:`Hidden`,
a system where the caller is no owner :class:`Forbidden`); anyone else :class:`Forbidden`. Only
admins verify.
"""

from __future__ import annotations

import datetime as dt

from dockyard.domain import audit
from dockyard.domain.access import Principal, authorize, require_admin
from dockyard.domain.audit import AuditEntry, AuditQuery, AuditRecord, Verification
from dockyard.domain.errors import Forbidden, InvalidInput, Unavailable
from dockyard.services.platform import Platform

MAX_LIMIT = 500
VERIFY_PAGE = 1000
_END = 2**62


async def record(platform: Platform, record: AuditRecord) -> AuditEntry:
    """Append ``record`` as the next entry. Concurrent calls (from any process) line up on the trail's
    head, so each gets the next ``seq`` and the previous entry's hash. Raises :class:`Unavailable` when
    the database is away or the head is missing (the trail was tampered with)."""
    async with platform.db.unit_of_work() as uow:
        head = await uow.audit.lock_head()
        if head is None:
            raise Unavailable("the audit trail's head record is missing; run `dockyard audit verify`")
        entry = audit.seal(record, after=head)
        await uow.audit.append(entry)
    return entry


async def find(platform: Platform, principal: Principal, query: AuditQuery) -> list[AuditEntry]:
    """Entries matching ``query``, newest first (see the module's docstring for who sees what)."""
    if query.system is not None:
        authorize(principal, "manage", query.system)
    elif not principal.admin:
        raise Forbidden("reading the whole audit trail needs a platform admin; owners filter by their system")
    if not 1 <= query.limit <= MAX_LIMIT:
        raise InvalidInput("limit", f"limit must be from 1 to {MAX_LIMIT}")
    since, until = _utc(query.since), _utc(query.until)
    if since is not None and until is not None and since >= until:
        raise InvalidInput("until", "until must be later than since")
    async with platform.db.unit_of_work() as uow:
        return await uow.audit.find(
            AuditQuery(
                system=query.system,
                actor=query.actor,
                action=query.action,
                outcome=query.outcome,
                since=since,
                until=until,
                before=query.before,
                limit=query.limit,
            )
        )


async def verify(platform: Platform, principal: Principal) -> Verification:
    """Check the whole chain up to the head as it was when the check began (entries appended meanwhile
    are left for the next check), reading it in pages; stops at the first break."""
    require_admin(principal, "verifying the audit trail")
    async with platform.db.unit_of_work() as uow:
        head = await uow.audit.head()
    upto = head.seq if head is not None else _END
    check = audit.ChainCheck()
    after = 0
    while True:
        async with platform.db.unit_of_work() as uow:
            page = await uow.audit.chain(after=after, upto=upto, limit=VERIFY_PAGE)
        if not all(check.feed(entry) for entry in page) or len(page) < VERIFY_PAGE:
            break
        after = page[-1].seq
    return check.finish(head)


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    """An aware time in UTC; a naive one is taken as UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)
