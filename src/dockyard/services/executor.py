"""The executor: drives every unfinished operation to its end, in the background of each server.

Every ``poll`` seconds it reads the unfinished operations from the database; for each one it does not
run yet it takes the operation's lease (see ``OperationLog.claim``) and, if it got it, runs it in a
task; the leases of its running tasks are renewed on every round. So with several server replicas on
one database each operation runs in exactly one of them, and when a server dies (kill -9) its leases
expire after ``lease`` seconds and another replica, or the restarted server, resumes the operations
(see :func:`run_operation`). An operation whose run raises (e.g. the database is briefly away) is tried
again on a later round; one still unfinished :data:`STUCK_GRACE` seconds after its deadline is ended
``failed``, so a runner that keeps failing or hangs cannot lock its group for ever.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid

from dockyard.domain.errors import DomainError
from dockyard.domain.model import Operation
from dockyard.domain.operations import deadline_seconds
from dockyard.services.deploys import ACTIONS, run_operation
from dockyard.services.platform import Platform

log = logging.getLogger(__name__)
LEASE = 15.0
STUCK_GRACE = 120.0


def _limit(op: Operation) -> float:
    return float(deadline_seconds(op.params))


def runner_id() -> str:
    return f"{socket.gethostname()[:60]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


async def run_executor(platform: Platform, *, poll: float = 1.0, lease: float = LEASE, runner: str = "") -> None:
    """Run until cancelled; cancelling also cancels the operations in flight (they resume later)."""
    me = runner or runner_id()
    tasks: dict[str, asyncio.Task[object]] = {}
    try:
        while True:
            for operation_id, task in list(tasks.items()):
                if task.done():
                    del tasks[operation_id]
                    if not task.cancelled() and task.exception() is not None:
                        log.warning("operation %s: %s (will retry)", operation_id, task.exception())
            platform.operations_added.clear()  # before reading: what is recorded after sets it again
            try:
                await _round(platform, me, tasks, lease)
            except DomainError as e:
                log.warning("executor: %s", e)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(platform.operations_added.wait(), poll)
    finally:
        for task in tasks.values():
            task.cancel()
        for task in tasks.values():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def _round(platform: Platform, me: str, tasks: dict[str, asyncio.Task[object]], lease: float) -> None:
    async with platform.db.unit_of_work() as uow:
        unfinished = [op for op in await uow.operations.unfinished() if op.action in ACTIONS]
    now = time.time()
    for op in unfinished:
        async with platform.db.unit_of_work() as uow:
            held = await uow.operations.claim(op.id, me, seconds=lease)
            # A release waits for people (pauses) and bounds each of its steps itself: never "stuck".
            stuck = op.started_at is not None and now > op.started_at.timestamp() + _limit(op) + STUCK_GRACE
            if held and stuck and op.action != "release":
                # Its runner keeps failing or hangs past its deadline: end it, or the group stays locked.
                await uow.operations.finish(
                    op.id, "failed", error=f"stopped: no end {STUCK_GRACE:.0f}s past its deadline"
                )
                if op.id in tasks:
                    tasks.pop(op.id).cancel()
                continue
        if not held:
            if op.id in tasks:  # our lease lapsed and another replica took it over: stop ours
                tasks.pop(op.id).cancel()
            continue
        if op.id not in tasks:
            tasks[op.id] = asyncio.create_task(run_operation(platform, op.id), name=f"operation-{op.id}")
