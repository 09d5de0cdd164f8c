"""GET /api/v1/systems/{s}/apps/{a}/groups/{g}/logs (and …/instances/{i}/logs): live logs.

Contract: authorized like ``GET …/groups/{g}`` (another tenant's group is 404; a bad filter is 422
naming the field, before anything is read). Without ``follow``: JSON, the last ``tail`` lines
(default 100) of the instances wanted, merged in time order, or with ``after`` (a resume point) the
lines written since it, and the resume point after them. With ``follow=true``: server-sent events —

- ``attach`` ``{cluster, instance, version}`` when an instance's log is first read (the instances
  there now, then any that starts later, a release's new ones);
- ``line`` ``{time, cluster, instance, version, text}``, its ``id`` the resume point after it: a
  client reconnecting with ``Last-Event-ID`` (or ``after``) gets every later line once;
- ``end`` ``{cluster, instance, version}`` (with an ``id`` too) when an instance is gone (also at
  once on a reconnect for an instance of the resume point that went meanwhile; ``version`` is then "");
- ``error`` ``{code, message}`` if the group disappears or the caller loses the right (checked every
  few seconds), which ends the stream;
- a comment line when nothing was sent for 15 s, so idle proxies keep the connection.

Filters: ``instance`` and ``version`` (repeatable), ``text`` (a plain, case-sensitive substring),
``since`` (RFC 3339 or a duration such as ``15m``), ``tail`` (per group, 0..10000).

``GET …/groups/{g}/logs/search``: the group's stored history in the log store (see
services/logsearch.py), authorized the same way; ``q`` is a plain text, never the store's language.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from dockyard.api.deps import Caller, PlatformDep
from dockyard.api.errors import ERRORS
from dockyard.api.schemas.logs import LogInstanceOut, LogLineOut, LogSearchOut, LogsOut, StoredLineOut
from dockyard.api.settle import settled
from dockyard.domain.access import Principal
from dockyard.domain.logs import DEFAULT_LIMIT, LogFilter, check_tail, decode_cursor, log_filter
from dockyard.domain.logsearch import search as make_search
from dockyard.domain.model import GroupPath
from dockyard.services import logs, logsearch
from dockyard.services.identity import authenticate
from dockyard.services.platform import Platform

router = APIRouter(prefix="/api/v1/systems/{system}/apps/{app}/groups", responses=ERRORS, tags=["logs"])

InstanceQ = Annotated[list[str] | None, Query(description="Only these instances (repeatable)")]
VersionQ = Annotated[list[str] | None, Query(description="Only instances of these versions (repeatable)")]
TextQ = Annotated[str, Query(description="Only lines containing this text (plain, case-sensitive)")]
SinceQ = Annotated[str | None, Query(description="RFC 3339 time or a duration back from now (15m, 2h)")]
TailQ = Annotated[int | None, Query(description="The last N lines (default 100 without after or since)")]
AfterQ = Annotated[str | None, Query(description="A resume point (a cursor or an event id) to continue from")]
_STREAM: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "JSON (LogsOut); follow=true: server-sent events attach, line (id: resume point), end, error",
        "model": LogsOut,
        "content": {"text/event-stream": {"schema": {"$ref": "#/components/schemas/LogLineOut"}}},
    }
}


@router.get("/{group}/logs", response_model=None, responses=_STREAM)
async def group_logs(
    system: str,
    app: str,
    group: str,
    request: Request,
    platform: PlatformDep,
    caller: Caller,
    follow: bool = False,
    instance: InstanceQ = None,
    version: VersionQ = None,
    text: TextQ = "",
    since: SinceQ = None,
    tail: TailQ = None,
    after: AfterQ = None,
    last_event_id: Annotated[str | None, Header()] = None,
) -> LogsOut | StreamingResponse:
    """The group's instances' logs merged in time order, each line tagged with instance, version and cluster."""
    wanted = log_filter(instances=instance or (), versions=version or (), text=text, since=since, now=time.time_ns())
    path = GroupPath(system, app, group)
    return await _answer(request, platform, caller, path, wanted, follow, tail, after or last_event_id)


@router.get("/{group}/logs/search", response_model=LogSearchOut)
async def search_logs(
    system: str,
    app: str,
    group: str,
    platform: PlatformDep,
    caller: Caller,
    q: Annotated[str, Query(description="Only lines containing this text (plain, case-sensitive; never a query)")] = "",
    instance: InstanceQ = None,
    version: VersionQ = None,
    level: Annotated[list[str] | None, Query(description="Only these levels: error, warn, info, debug")] = None,
    since: SinceQ = None,
    until: Annotated[str | None, Query(description="Before this RFC 3339 time or this long ago (15m)")] = None,
    limit: Annotated[int | None, Query(description="The newest N matching lines (1..10000, default 1000)")] = None,
) -> LogSearchOut:
    """The group's stored log history (instances gone included, for the store's retention): the newest
    matching lines, in time order."""
    wanted = make_search(
        GroupPath(system, app, group),
        q=q,
        instances=instance or (),
        versions=version or (),
        levels=level or (),
        since=since,
        until=until,
        limit=limit,
        now=time.time_ns(),
    )
    found = await logsearch.search(platform, caller, wanted)
    return LogSearchOut(lines=[StoredLineOut.of(s) for s in found.lines], more=found.more)


async def _answer(
    request: Request,
    platform: Platform,
    caller: Principal,
    path: GroupPath,
    wanted: LogFilter,
    follow: bool,
    tail: int | None,
    after: str | None,
) -> LogsOut | StreamingResponse:
    check_tail(tail)
    marks = decode_cursor(after or "", field_name="after")
    if tail is None and wanted.since is None and not marks:
        tail = logs.DEFAULT_TAIL
    if not follow:
        lines, cursor = await logs.recent(
            platform, caller, path, wanted=wanted, tail=tail, after=marks, limit=DEFAULT_LIMIT
        )
        return LogsOut(lines=[LogLineOut.of(line) for line in lines], cursor=cursor)
    first = await logs.sources(platform, caller, path, wanted)
    token = request.headers.get("authorization", "").partition(" ")[2]
    look = logs.looker(platform, path, wanted, authenticate=lambda: authenticate(platform, token), guard=settled)
    stream = logs.Follow(logs.reader(platform), look, wanted=wanted, after=marks, tail=tail)
    return StreamingResponse(
        _events(stream, first),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _events(stream: logs.Follow, first: list[logs.Source]) -> AsyncIterator[bytes]:
    async for event in stream.events(first):
        if event.kind == "line" and event.line is not None:
            data = LogLineOut.of(event.line).model_dump_json()
            yield f"id: {event.cursor}\nevent: line\ndata: {data}\n\n".encode()
        elif event.kind in ("attach", "end") and (event.source is not None or event.gone is not None):
            if event.source is not None:
                data = LogInstanceOut.of(event.source).model_dump_json()
            else:
                cluster, instance = event.gone or ("", "")
                data = LogInstanceOut(cluster=cluster, instance=instance, version="").model_dump_json()
            head = f"id: {event.cursor}\n" if event.kind == "end" else ""
            yield f"{head}event: {event.kind}\ndata: {data}\n\n".encode()
        elif event.kind == "error":
            data = json.dumps({"code": event.code, "message": event.message})
            yield f"event: error\ndata: {data}\n\n".encode()
        else:
            yield b": keep-alive\n\n"
