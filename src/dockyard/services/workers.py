"""One leased-worker loop: claim → run under a lease → renew → stop → teardown, for every kind of
background work (operations: services/executor.py; builds: services/build_runner.py).

Several servers share one database; each item of work (an operation, a build) runs in exactly one of
them, the one holding its lease. What an item is, how its lease is taken and renewed and how it is
driven is the :class:`Work`'s; the loop owns the tasks.

Contract of :func:`run_leased`, round after round:

1. **Reap**: tasks that ended leave the running set; one that raised is logged (its item is offered
   again by a later look if it is still unfinished, and then claimed again).
2. **Wake-up**: the ``wake`` event is cleared *before* the look, so work recorded after the look sets
   it again and is not missed; the loop then waits for it, or ``poll`` seconds, between rounds. A task
   that ends sets it too, so a freed slot is filled at once rather than at the next poll.
3. **Look**: one :meth:`Work.look` with the ids running here: which items to start (in order) and
   which running ones to stop. The work does its own housekeeping there (ending stuck or interrupted
   items). A :class:`DomainError` in a round (the database briefly away) is logged and the loop goes on.
4. **Renew**: when ``renew_every`` seconds (monotonic) have passed since the last renewal (0: every
   round) and something runs, :meth:`Work.renew` renews the running items' leases and answers those
   no longer held; their tasks are cancelled (another server took them over).
5. **Stop**: running items named by the look are cancelled (a cancel asked for, an item ended as stuck).
   A cancelled task stays in the running set (and counts against ``limit``) until it has ended, so
   one process never runs an item twice at once.
6. **Claim**: each item offered and not running is started, as a task of :meth:`Work.run`, once
   :meth:`Work.claim` has taken its lease, while fewer than ``limit`` run (None: no limit).

**Shutdown**: cancelling :func:`run_leased` cancels every running task and waits until each has
ended (their errors and cancellations swallowed), then ends cancelled. What that leaves behind is the
work's contract (an operation is resumed by another server once its lease expires; a build is marked
interrupted).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from dockyard.domain.errors import DomainError

log = logging.getLogger(__name__)


async def woken(event: asyncio.Event, seconds: float) -> bool:
    """Wait for ``event``, at most ``seconds``; True if it was set. The background loops' wait between
    rounds. Not ``asyncio.wait_for(event.wait(), seconds)``: Python 3.11's wait_for waits in a task of
    its own and, cancelled just as that task has seen the event, returns and drops the cancellation; the
    loop then runs on and the server's shutdown, which waits for it, never ends."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            return await event.wait()
    return False


def runner_id() -> str:
    """A name for this process's runner, unique among the servers sharing a database."""
    return f"{socket.gethostname()[:60]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Look:
    """One look at the work: the ids to start, in order, and the running ids to stop."""

    start: Sequence[str] = ()
    stop: Sequence[str] = ()


class Work(Protocol):
    """One kind of leased work, as :func:`run_leased` drives it."""

    async def look(self, running: frozenset[str]) -> Look:
        """One read of the unfinished items (and any housekeeping); ``running`` run in this process."""
        ...

    async def claim(self, item: str) -> bool:
        """Take the lease of ``item``; False when another runner holds it or it has ended."""
        ...

    async def renew(self, running: frozenset[str]) -> set[str]:
        """Renew the leases of ``running``; the ids whose lease this runner no longer holds."""
        ...

    async def run(self, item: str) -> object:
        """Drive one claimed item to its end (or until cancelled)."""
        ...


@dataclass
class Tasks:
    """The tasks of the items running here, by id, and when their leases were last renewed."""

    running: dict[str, asyncio.Task[object]] = field(default_factory=dict)
    renewed: float = float("-inf")

    def ids(self) -> frozenset[str]:
        return frozenset(self.running)

    def stop(self, item: str) -> None:
        """Cancel ``item``'s task; it leaves the running set once it has ended (see :func:`run_leased`)."""
        if (task := self.running.get(item)) is not None:
            task.cancel()


async def run_leased(
    work: Work,
    *,
    name: str,
    wake: asyncio.Event,
    poll: float,
    renew_every: float,
    limit: int | None = None,
    tasks: Tasks | None = None,
) -> None:
    """Run ``work`` until cancelled (see the module docstring); ``name`` prefixes log lines and task
    names. ``tasks`` may be given to look at what runs (tests)."""
    tasks = tasks if tasks is not None else Tasks()
    try:
        while True:
            _reap(tasks, name)
            wake.clear()  # before reading: what is recorded after sets it again
            try:
                await _round(work, tasks, name=name, wake=wake, renew_every=renew_every, limit=limit)
            except DomainError as e:
                log.warning("%s: %s", name, e)
            await woken(wake, poll)
    finally:
        running = list(tasks.running.values())
        for task in running:
            task.cancel()
        for task in running:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


def _reap(tasks: Tasks, name: str) -> None:
    for item, task in list(tasks.running.items()):
        if task.done():
            del tasks.running[item]
            if not task.cancelled() and task.exception() is not None:
                log.warning("%s %s: %s (will retry)", name, item, task.exception())


async def _round(
    work: Work, tasks: Tasks, *, name: str, wake: asyncio.Event, renew_every: float, limit: int | None
) -> None:
    look = await work.look(tasks.ids())
    now = time.monotonic()
    if tasks.running and now - tasks.renewed >= renew_every:
        for item in await work.renew(tasks.ids()):
            tasks.stop(item)  # our lease lapsed and another runner took it over: stop ours
        tasks.renewed = now
    for item in look.stop:
        tasks.stop(item)
    for item in look.start:
        if item in tasks.running or (limit is not None and len(tasks.running) >= limit):
            continue
        if await work.claim(item):
            task: asyncio.Task[object] = asyncio.create_task(work.run(item), name=f"{name}-{item}")
            task.add_done_callback(lambda _t: wake.set())
            tasks.running[item] = task
