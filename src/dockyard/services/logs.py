"""A group's live logs: its instances' ``pods/log`` read through each cluster's apiserver, merged in
time order, tagged with instance, version and cluster.

Which instances to read comes from the watch caches (never a list of the apiserver per request);
reads go through the :class:`~dockyard.services.ports.PodLogs` port. Authorization is the group's
read (:func:`dockyard.services.status.instances`): another tenant's group is ``Hidden`` (404).

- :func:`recent`: the last lines (``tail``), or the lines after a resume point, once.
- :class:`Follow`: a stream of :class:`Event` s: lines as they are written (held :data:`HOLD` seconds
  to be merged in time order), ``attach`` when an instance's log is first read, ``end`` when an
  instance is gone, a resume point with every line (see :mod:`dockyard.domain.logs`), and the
  caller's right re-checked every :data:`RECHECK` seconds.

Instance readers retry a log the node cannot serve yet (a container still starting; a KWOK pod
without its ``Logs``) every :data:`RETRY` seconds, and reopen a log whose stream ended (the
container restarted, the apiserver cut it) from their own resume point.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from dockyard.domain.access import Principal
from dockyard.domain.clusters import Cluster
from dockyard.domain.errors import DomainError, InvalidInput
from dockyard.domain.failures import ClusterFailure, ClusterNotFound
from dockyard.domain.live import PodRecord
from dockyard.domain.logs import (
    NS,
    Cursor,
    LogFilter,
    LogLine,
    Mark,
    Reorder,
    Resumed,
    last,
    merge,
    parse_line,
    since_time,
)
from dockyard.domain.model import GroupPath
from dockyard.services import status
from dockyard.services.platform import Platform
from dockyard.services.ports import PodLogs

log = logging.getLogger(__name__)
CONTAINER = "app"  # the instance's container (domain/render.py)
HOLD = 0.3  # seconds a followed line waits for older lines of other instances
TICK = 0.1  # seconds between looks at what the readers read
EVERY = 0.5  # seconds between looks at the group's instances (watch caches)
RECHECK = 5.0  # seconds between checks of the caller's token and right
RETRY = 1.0  # seconds before a reader asks again for a log it could not read
GONE_GRACE = 1.0  # seconds a reader keeps reading once its instance left the caches
KEEPALIVE = 15.0
MAX_SECONDS = 3600.0
QUEUE = 10_000  # lines read ahead of the client: readers wait beyond this
DEFAULT_TAIL = 100
CLOCK_MARGIN = 1.0  # seconds: "from now" starts this much earlier
READ_AT_ONCE = 32  # instances' logs a JSON answer reads at once
T = TypeVar("T")


class Guard(Protocol):
    """How a stream awaits its database reads (the API's ``settled``: a client leaving mid-read
    does not cut the read's session)."""

    def __call__(self, work: Coroutine[Any, Any, T], /) -> Awaitable[T]: ...


async def _plain(work: Coroutine[Any, Any, T], /) -> T:
    return await work


@dataclass(frozen=True)
class Source:
    """An instance to read, on its cluster."""

    cluster: Cluster
    pod: PodRecord

    @property
    def key(self) -> str:
        return f"{self.cluster.name}/{self.pod.name}"


@dataclass(frozen=True)
class Event:
    """What a following stream says: ``line`` (with ``line`` and ``cursor``), ``attach``, ``end``
    (with ``source``, or ``gone`` for an instance gone before a reconnect, and ``cursor``), ``error``
    (``code``, ``message``), or ``keepalive``."""

    kind: str
    line: LogLine | None = None
    source: Source | None = None
    gone: tuple[str, str] | None = None  # (cluster, instance) of an ``end`` told on reconnecting
    cursor: str = ""
    code: str = ""
    message: str = ""


def _logs(platform: Platform) -> PodLogs:
    if platform.logs is None:
        raise InvalidInput("follow", "this server cannot read instances' logs")
    return platform.logs


async def sources(platform: Platform, caller: Principal, group: GroupPath, wanted: LogFilter) -> list[Source]:
    """The group's instances the filter wants (authorized like reading the group), from the caches."""
    pods = await status.instances(platform, caller, group)
    clusters = await _clusters(platform)
    return [
        Source(clusters[name], pod)
        for name, pod in pods[0]
        if name in clusters and wanted.wants_instance(pod.name, pod.version)
    ]


async def _clusters(platform: Platform) -> dict[str, Cluster]:
    async with platform.db.unit_of_work() as uow:
        return {c.name: c for c in await uow.clusters.all()}


async def _read_once(
    logs: PodLogs, source: Source, mark: Mark | None, wanted: LogFilter, tail: int | None
) -> list[LogLine]:
    """One instance's lines after ``mark`` (or its last ``tail``, or since the filter's ``since``)."""
    pod = source.pod
    skip = Resumed(mark)
    out: list[LogLine] = []
    try:
        async with logs.read(
            source.cluster,
            pod.namespace,
            pod.name,
            container=CONTAINER,
            follow=False,
            since_time=since_time(mark, wanted.since),
            tail_lines=tail if mark is None else None,
        ) as lines:
            async for raw in lines:
                parsed = parse_line(raw)
                if parsed is not None and skip.new(parsed[0]):
                    out.append(LogLine(parsed[0], source.cluster.name, pod.name, pod.version, parsed[1]))
    except ClusterFailure:
        return out  # an instance whose log cannot be read now has no lines to show
    return out


async def recent(
    platform: Platform,
    caller: Principal,
    group: GroupPath,
    *,
    wanted: LogFilter,
    tail: int | None,
    after: dict[str, Mark],
    limit: int,
) -> tuple[list[LogLine], str]:
    """The lines to show once, in time order, with the resume point after them. Without ``after``:
    the last ``tail`` lines wanted. With ``after``: the first ``limit`` lines written after it (so
    asking again with the returned resume point misses none)."""
    logs = _logs(platform)
    found = await sources(platform, caller, group, wanted)
    per_instance = None if after or wanted.text else tail
    gate = asyncio.Semaphore(READ_AT_ONCE)

    async def read(source: Source) -> list[LogLine]:
        async with gate:
            return await _read_once(logs, source, after.get(source.key), wanted, per_instance)

    reads = await asyncio.gather(*(read(s) for s in found))
    # An instance read without a line yet is marked at time 0 (asked again, its whole log is new);
    # with tail=0, at the time of this read: only what comes after is new.
    unread = _now_mark() if tail == 0 and not after else Mark(0, 0)
    cursor = Cursor({s.key: after.get(s.key, unread) for s in found})
    shown: list[LogLine] = []
    if after:
        for line in merge(reads):
            if len(shown) >= limit:
                break
            cursor.sent(line)
            if wanted.wants(line):
                shown.append(line)
        return shown, cursor.encode()
    merged = list(merge(reads))
    for line in merged:
        cursor.sent(line)
    shown = [line for line in merged if wanted.wants(line)]
    return last(shown, tail), cursor.encode()


def _now_mark() -> Mark:
    """A mark a little before now (:data:`CLOCK_MARGIN`: a node's clock may lag Dockyard's): lines
    from then on are new."""
    return Mark(time.time_ns() - int(CLOCK_MARGIN * NS), 0)


def looker(
    platform: Platform,
    group: GroupPath,
    wanted: LogFilter,
    *,
    authenticate: Callable[[], Coroutine[Any, Any, Principal]],
    guard: Guard = _plain,
) -> Callable[[], Awaitable[list[Source]]]:
    """A :class:`Follow`'s ``look``: the caller authenticated again every :data:`RECHECK` seconds
    (a revoked token or role ends the stream), then :func:`sources`; each read through ``guard``."""
    caller: Principal | None = None
    checked = 0.0

    async def look() -> list[Source]:
        nonlocal caller, checked
        now = time.monotonic()
        if caller is None or now - checked >= RECHECK:
            caller, checked = await guard(authenticate()), now
        return await guard(sources(platform, caller, group, wanted))

    return look


def reader(platform: Platform) -> PodLogs:
    """The platform's log port; ``InvalidInput`` if this server has none."""
    return _logs(platform)


class Follow:
    """One client's stream of a group's logs (see the module's docstring); iterate :meth:`events`."""

    def __init__(
        self,
        logs: PodLogs,
        look: Callable[[], Awaitable[list[Source]]],
        *,
        wanted: LogFilter,
        after: dict[str, Mark],
        tail: int | None,
        hold: float = HOLD,
        keepalive: float = KEEPALIVE,
        max_seconds: float = MAX_SECONDS,
    ) -> None:
        """``look``: the group's instances the filter wants now (raising ``DomainError`` when the
        group or the caller's right is gone), called every :data:`EVERY` seconds."""
        self._logs = logs
        self._look_up = look
        self._wanted = wanted
        self._cursor = Cursor(dict(after))
        self._resumed = bool(after)
        self._tail = tail
        self._hold = int(hold * NS)
        self._keepalive = keepalive
        self._max_seconds = max_seconds
        self._queue: asyncio.Queue[LogLine] = asyncio.Queue(QUEUE)
        self._readers: dict[str, asyncio.Task[None]] = {}
        self._sources: dict[str, Source] = {}
        self._gone: dict[str, float] = {}  # key: when it left the caches
        self._finished: dict[str, int] = {}  # key: when its reader ended (ns, monotonic)
        self._reorder = Reorder(self._hold)

    async def events(self, first: list[Source]) -> AsyncGenerator[Event, None]:
        """The stream, starting with the instances ``first`` (read by the caller, authorized)."""
        try:
            async for event in self._run(first):
                yield event
        finally:
            for task in self._readers.values():
                task.cancel()
            for task in self._readers.values():
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def _run(self, first: list[Source]) -> AsyncGenerator[Event, None]:
        started = last_sent = last_look = time.monotonic()
        for key in sorted(set(self._cursor.marks) - {s.key for s in first}):
            # Gone while the client was away (its resume point still had it): it ended.
            self._cursor.keep(k for k in self._cursor.marks if k != key)
            cluster, _, instance = key.partition("/")
            yield Event("end", gone=(cluster, instance), cursor=self._cursor.encode())
        for source in first:
            yield self._attach(source, initial=True)
        while time.monotonic() - started < self._max_seconds:
            await asyncio.sleep(TICK)
            if time.monotonic() - last_look >= EVERY:
                last_look = time.monotonic()
                try:
                    found = await self._look()
                except DomainError as e:
                    yield Event("error", code=e.code, message=str(e))
                    return
                for source in found:
                    yield self._attach(source, initial=False)
            sent = False
            for event in self._due():
                sent = True
                yield event
            if sent:
                last_sent = time.monotonic()
            elif time.monotonic() - last_sent >= self._keepalive:
                last_sent = time.monotonic()
                yield Event("keepalive")

    async def _look(self) -> list[Source]:
        """The group's instances now: the new ones; the ones gone are noted (their readers stop
        :data:`GONE_GRACE` seconds later)."""
        now = time.monotonic()
        present = {s.key: s for s in await self._look_up()}
        for key in self._sources:
            if key not in present and key not in self._gone:
                self._gone[key] = now
        for key, since in self._gone.items():
            task = self._readers[key]
            if not task.done() and now - since >= GONE_GRACE:
                task.cancel()
        return [s for key, s in present.items() if key not in self._sources]

    def _due(self) -> list[Event]:
        """The lines read since the last look that are due, in time order, and the ends of instances
        gone whose readers have stopped and whose last lines went out."""
        clock = time.monotonic_ns()
        while not self._queue.empty():
            self._reorder.push(self._queue.get_nowait(), arrived=clock)
        out: list[Event] = []
        for line in self._reorder.ready(now=clock):
            self._cursor.sent(line)
            if self._wanted.wants(line):
                out.append(Event("line", line=line, cursor=self._cursor.encode()))
        for key, task in self._readers.items():
            if task.done() and key not in self._finished:
                self._finished[key] = clock
        for key, ended in list(self._finished.items()):
            if key in self._gone and clock - ended >= self._hold:
                del self._finished[key], self._gone[key], self._readers[key]
                source = self._sources.pop(key)
                self._cursor.keep(k for k in self._cursor.marks if k != key)
                out.append(Event("end", source=source, cursor=self._cursor.encode()))
        return out

    def _attach(self, source: Source, *, initial: bool) -> Event:
        """Start reading ``source``: from its resume point if the stream had one for it; else, on a
        first connection, its last ``tail`` lines (or since the filter's ``since``) for an instance
        there from the start, and its whole log for one that came later or on a resumed stream."""
        mark = self._cursor.marks.get(source.key)
        tail = self._tail if initial and not self._resumed and mark is None else None
        if tail == 0:  # nothing of the log as it is: from now on (a reopened read must not go back)
            mark, tail = _now_mark(), None
        self._sources[source.key] = source
        self._readers[source.key] = asyncio.create_task(self._read(source, mark, tail), name=f"logs-{source.key}")
        return Event("attach", source=source)

    async def _read(self, source: Source, mark: Mark | None, tail: int | None) -> None:
        pod = source.pod
        while True:
            skip = Resumed(mark)
            try:
                async with self._logs.read(
                    source.cluster,
                    pod.namespace,
                    pod.name,
                    container=CONTAINER,
                    follow=True,
                    since_time=since_time(mark, self._wanted.since),
                    tail_lines=tail if mark is None else None,
                ) as lines:
                    async for raw in lines:
                        parsed = parse_line(raw)
                        if parsed is None or not skip.new(parsed[0]):
                            continue
                        at, text = parsed
                        mark = mark.after(at) if mark else Mark(at, 1)
                        await self._queue.put(LogLine(at, source.cluster.name, pod.name, pod.version, text))
            except ClusterNotFound:
                return  # the pod is gone
            except ClusterFailure:
                pass  # not servable yet, or the apiserver is away: ask again
            except Exception:  # a bug must not silence an instance for the rest of the stream
                log.warning("reading the log of %s failed", source.key, exc_info=True)
            tail = None
            await asyncio.sleep(RETRY)
