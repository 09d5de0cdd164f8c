"""Searching a group's log history in the log store (what the shipper, services/logship.py, wrote).

Contract: authorized like reading the group (another tenant's group, or one that does not exist:
``NotFound``, 404), before the store is asked. The answer is the newest ``limit`` stored lines that
match (:class:`~dockyard.domain.logsearch.Search`), in time order (ties by cluster, instance, then
their order in the instance's log), and whether more matched. The query is made by
:func:`dockyard.domain.logsearch.logsql`: the user's text is a quoted literal, never LogsQL. No store
configured, or the store away: ``Unavailable`` (503).
"""

from __future__ import annotations

from dataclasses import dataclass

from dockyard.domain.access import Principal, authorize
from dockyard.domain.errors import NotFound, Unavailable
from dockyard.domain.failures import LogStoreFailure
from dockyard.domain.logs import LogLine, parse_time
from dockyard.domain.logsearch import Search, Stored, logsql
from dockyard.services.platform import Platform


@dataclass(frozen=True)
class Found:
    lines: list[Stored]
    more: bool  # at least ``limit`` lines matched: older ones may be left out


async def search(platform: Platform, caller: Principal, wanted: Search) -> Found:
    group = wanted.group
    authorize(caller, "read", group.system, group.app)
    async with platform.db.unit_of_work() as uow:
        if await uow.groups.get(group) is None:
            raise NotFound(f"group {group.group!r} does not exist in {group.app_path}")
    if platform.logstore is None:
        raise Unavailable("no log store is configured: set DOCKYARD_LOGSTORE_URL")
    try:
        rows = await platform.logstore.query(logsql(wanted))
    except LogStoreFailure as e:
        raise Unavailable(f"the log store cannot answer: {e}") from e
    found: list[tuple[int, str, str, int, Stored]] = []
    for row in rows:
        try:
            at = parse_time(row["_time"])
            n = int(row.get("n") or 1)
        except (KeyError, ValueError):
            continue
        line = LogLine(at, row.get("cluster", ""), row.get("instance", ""), row.get("version", ""), row.get("_msg", ""))
        found.append((at, line.cluster, line.instance, n, Stored(line, row.get("level", ""))))
    found.sort(key=lambda item: item[:4])
    return Found(lines=[item[4] for item in found], more=len(found) >= wanted.limit)
