"""The log shipper: every instance's log, followed through ``pods/log``, written to the log store, so
a group's history (instances gone included) can be searched for the store's retention.

One server ships at a time: the one holding lease :data:`LEASE` (adapters/db/leases.py), renewed
every :data:`RENEW` seconds; a server that loses it stops its readers, the next holder resumes.

- **Which instances**: every instance in the watch caches (all groups, all clusters), looked at every
  :data:`EVERY` seconds. An instance gone from the caches keeps its reader :data:`GONE_GRACE`
  seconds, for its last lines.
- **Resuming without a duplicate**: a reader first asks the store for the instance's newest stored
  line: its ``_time`` and ``n`` are the instance's :class:`~dockyard.domain.logs.Mark` (see
  :mod:`dockyard.domain.logsearch`); it reads the log from that mark's second and skips what the
  store has (:class:`~dockyard.domain.logs.Resumed`), exactly as a live stream resumes. A reader
  whose stream ends after some lines reopens from its own mark :data:`RETRY` seconds later; one
  whose log cannot be read asks again after doubling waits up to :data:`PATIENCE`. A store it
  cannot ask is asked again every :data:`RETRY` seconds: nothing is read before the mark is known.
- **Writing**: lines wait at most ``config.logship.every`` seconds and are written in batches of at
  most ``config.logship.batch``; a write that fails is tried again (the readers wait once
  :data:`QUEUE` lines are pending). A write that timed out after the store took it is written again:
  the one way a line can be stored twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field

from dockyard.domain.failures import ClusterFailure, ClusterNotFound, DatabaseConflict, Failure, LogStoreFailure
from dockyard.domain.logs import LogLine, Mark, Resumed, parse_line, parse_time, since_time
from dockyard.domain.logsearch import last_mark_query, record
from dockyard.domain.model import GroupPath
from dockyard.services.logs import CONTAINER, Source
from dockyard.services.platform import Platform
from dockyard.services.ports import LogStore, PodLogs
from dockyard.services.workers import runner_id

log = logging.getLogger(__name__)
LEASE = "logs-shipper"
EVERY = 1.0  # seconds between looks at the instances
RENEW = 5.0  # seconds between renewals of the lease
RETRY = 1.0
PATIENCE = 30.0  # the longest wait before asking again for a log the node cannot serve (doubling from RETRY)
GONE_GRACE = 3.0
QUEUE = 50_000
MARKS_AT_ONCE = 16  # store queries for marks at once (a new holder starts every reader)


@dataclass
class Shipped:
    """What the shipper did so far (for tests and the benchmark)."""

    lines: int = 0
    writes: int = 0
    failed_writes: int = 0
    readers: int = 0
    last_write: float = 0.0
    errors: list[str] = field(default_factory=list)


class Shipper:
    """The readers and the writer of one holder of the lease (see the module)."""

    def __init__(self, platform: Platform, store: LogStore) -> None:
        self._platform = platform
        self._store = store
        self._queue: asyncio.Queue[dict[str, str]] = asyncio.Queue(QUEUE)
        self._readers: dict[str, asyncio.Task[None]] = {}
        self._gone: dict[str, float] = {}
        self._writer: asyncio.Task[None] | None = None
        self._marks = asyncio.Semaphore(MARKS_AT_ONCE)
        self.shipped = Shipped()

    @property
    def running(self) -> bool:
        return self._writer is not None

    async def look(self) -> None:
        """Start a reader for every new instance; stop those of instances gone a while."""
        if self._writer is None:
            with contextlib.suppress(LogStoreFailure):
                await self._store.flush()  # the last holder's writes: searchable before marks are read
            self._writer = asyncio.create_task(self._write(), name="logship-writer")
        async with self._platform.db.unit_of_work() as uow:
            clusters = await uow.clusters.all()
        now = time.monotonic()
        present: set[str] = set()
        for cluster in clusters:
            for pod in self._platform.live.instances(cluster.name):
                source = Source(cluster, pod)
                present.add(source.key)
                task = self._readers.get(source.key)
                if task is None or (task.done() and source.key not in self._gone):
                    group = GroupPath(pod.namespace, pod.app, pod.group)
                    self._readers[source.key] = asyncio.create_task(
                        self._read(source, group), name=f"logship-{source.key}"
                    )
        for key in list(self._readers):
            if key in present:
                self._gone.pop(key, None)
                continue
            since = self._gone.setdefault(key, now)
            if now - since >= GONE_GRACE:
                self._readers.pop(key).cancel()
                del self._gone[key]
        self.shipped.readers = len(self._readers)

    async def stop(self) -> None:
        """Stop every reader and the writer (what is queued and not yet written is dropped: the
        next holder reads it again from the store's marks)."""
        tasks = list(self._readers.values()) + ([self._writer] if self._writer else [])
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._readers.clear()
        self._gone.clear()
        self._writer = None
        self._queue = asyncio.Queue(QUEUE)

    async def _mark(self, source: Source) -> Mark | None:
        """The instance's newest stored line as a mark (None: nothing stored), asked until the store answers."""
        query = last_mark_query(source.cluster.name, source.pod.name)
        while True:
            try:
                async with self._marks:
                    rows = await self._store.query(query)
            except LogStoreFailure as e:
                self._note(f"reading the mark of {source.key}: {e}")
                await asyncio.sleep(RETRY)
                continue
            if not rows:
                return None
            try:
                return Mark(parse_time(rows[0]["_time"]), int(rows[0].get("n") or 1))
            except (KeyError, ValueError):
                return None

    def _logs(self) -> PodLogs:
        logs = self._platform.logs
        assert logs is not None  # run_shipper starts none without it
        return logs

    async def _read(self, source: Source, group: GroupPath) -> None:
        mark = await self._mark(source)
        pod = source.pod
        wait = RETRY
        while True:
            skip = Resumed(mark)
            read_any = False
            try:
                async with self._logs().read(
                    source.cluster,
                    pod.namespace,
                    pod.name,
                    container=CONTAINER,
                    follow=True,
                    since_time=since_time(mark, None),
                ) as lines:
                    async for raw in lines:
                        parsed = parse_line(raw)
                        if parsed is None or not skip.new(parsed[0]):
                            continue
                        at, text = parsed
                        mark = mark.after(at) if mark else Mark(at, 1)
                        line = LogLine(at, source.cluster.name, pod.name, pod.version, text)
                        await self._queue.put(record(line, group, mark=mark))
                        read_any = True
            except ClusterNotFound:
                return  # the pod is gone: its log with it
            except ClusterFailure:
                pass
            except Exception:  # a bug must not stop an instance's shipping for good
                log.warning("shipping the log of %s failed", source.key, exc_info=True)
            # A stream that was cut after some lines is reopened at once; a log that cannot be read
            # (not servable yet: a container starting, a KWOK pod without Logs; the apiserver away) is
            # asked again less often the longer it lasts (thousands of pods without a log).
            wait = RETRY if read_any else min(wait * 2, PATIENCE)
            await asyncio.sleep(wait)

    async def _write(self) -> None:
        config = self._platform.config.logship
        pending: list[dict[str, str]] = []
        backoff = RETRY
        while True:
            await asyncio.sleep(config.every)
            while len(pending) < config.batch and not self._queue.empty():
                pending.append(self._queue.get_nowait())
            if not pending:
                continue
            try:
                await self._store.insert(pending)
            except LogStoreFailure as e:
                self.shipped.failed_writes += 1
                self._note(f"writing {len(pending)} lines: {e}")
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            backoff = RETRY
            self.shipped.lines += len(pending)
            self.shipped.writes += 1
            self.shipped.last_write = time.time()
            pending = []

    def _note(self, problem: str) -> None:
        if len(self.shipped.errors) < 100:
            self.shipped.errors.append(problem)
        log.warning("log shipper: %s", problem)


async def run_shipper(platform: Platform, *, runner: str = "", ready: asyncio.Event | None = None) -> None:
    """Ship while this server holds the lease, until cancelled (see the module). Does nothing
    without a log store or a pod log reader."""
    if platform.logstore is None or platform.logs is None or not platform.config.logship.ship:
        return
    me = runner or runner_id()
    shipper = Shipper(platform, platform.logstore)
    held_until = 0.0
    try:
        while True:
            now = time.monotonic()
            if now >= held_until - (platform.config.logship.lease - RENEW):
                held_until = now + platform.config.logship.lease if await _claim(platform, me) else 0.0
            try:
                if held_until > now:
                    await shipper.look()
                    if ready is not None:
                        ready.set()
                elif shipper.running:
                    await shipper.stop()
            except Exception:
                log.warning("log shipper round failed", exc_info=True)
            await asyncio.sleep(EVERY)
    finally:
        await shipper.stop()
        with contextlib.suppress(Exception):
            async with platform.db.unit_of_work() as uow:
                await uow.leases.release(LEASE, me)


async def _claim(platform: Platform, runner: str) -> bool:
    try:
        async with platform.db.unit_of_work() as uow:
            return await uow.leases.claim(LEASE, runner, seconds=platform.config.logship.lease)
    except DatabaseConflict:
        return False
    except Failure as e:
        log.warning("log shipper: cannot take its lease: %s", e)
        return False
