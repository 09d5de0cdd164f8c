"""The executor: drives every unfinished operation to its end, in the background of the server.

Every ``poll`` seconds it reads the unfinished operations from the database and starts a task for
each one it is not already running, so operations recorded by any process are picked up, and a
server restarted after a crash resumes what was running (see :func:`run_operation`). An operation
whose run raises (e.g. the database is briefly away) is tried again on a later round.

One executor per database for now; several server replicas need a lease first (not yet built).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from dockyard.domain.errors import DomainError
from dockyard.services.deploys import ACTIONS, run_operation
from dockyard.services.platform import Platform

log = logging.getLogger(__name__)


async def run_executor(platform: Platform, *, poll: float = 1.0) -> None:
    """Run until cancelled; cancelling also cancels the operations in flight (they resume later)."""
    tasks: dict[str, asyncio.Task[object]] = {}
    try:
        while True:
            for operation_id, task in list(tasks.items()):
                if task.done():
                    del tasks[operation_id]
                    if not task.cancelled() and task.exception() is not None:
                        log.warning("operation %s: %s (will retry)", operation_id, task.exception())
            try:
                async with platform.db.unit_of_work() as uow:
                    unfinished = await uow.operations.unfinished()
            except DomainError as e:
                log.warning("executor cannot read operations: %s", e)
                unfinished = []
            for op in unfinished:
                if op.action in ACTIONS and op.id not in tasks:
                    tasks[op.id] = asyncio.create_task(run_operation(platform, op.id), name=f"operation-{op.id}")
            await asyncio.sleep(poll)
    finally:
        for task in tasks.values():
            task.cancel()
        for task in tasks.values():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
