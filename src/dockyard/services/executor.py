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

import time
from dataclasses import dataclass, field

from dockyard.domain.model import Operation
from dockyard.domain.operations import deadline_seconds
from dockyard.services.deploys import ACTIONS, run_operation
from dockyard.services.platform import Platform
from dockyard.services.workers import Look, run_leased, runner_id

LEASE = 15.0
STUCK_GRACE = 120.0


def _limit(op: Operation) -> float:
    return float(deadline_seconds(op.params))


async def run_executor(platform: Platform, *, poll: float = 1.0, lease: float = LEASE, runner: str = "") -> None:
    """Run until cancelled; cancelling also cancels the operations in flight (they resume later).
    The loop is :func:`dockyard.services.workers.run_leased`; leases are renewed at every round."""
    work = _Operations(platform, runner or runner_id(), lease)
    await run_leased(work, name="operation", wake=platform.operations_added, poll=poll, renew_every=0.0)


@dataclass
class _Operations:
    """Operations as leased work: one read of the unfinished ones per round; the stuck ones ended."""

    platform: Platform
    me: str
    lease: float
    unfinished: set[str] = field(default_factory=set)  # at the last look, stuck ones left out

    async def look(self, running: frozenset[str]) -> Look:
        async with self.platform.db.unit_of_work() as uow:
            unfinished = [op for op in await uow.operations.unfinished() if op.action in ACTIONS]
        now = time.time()
        start: list[str] = []
        stop: list[str] = []
        for op in unfinished:
            # A release waits for people (pauses) and bounds each of its steps itself: never "stuck".
            stuck = op.started_at is not None and now > op.started_at.timestamp() + _limit(op) + STUCK_GRACE
            if not stuck or op.action == "release":
                start.append(op.id)
                continue
            async with self.platform.db.unit_of_work() as uow:
                # Its runner keeps failing or hangs past its deadline: end it, or the group stays locked.
                if await uow.operations.claim(op.id, self.me, seconds=self.lease):
                    await uow.operations.finish(
                        op.id, "failed", error=f"stopped: no end {STUCK_GRACE:.0f}s past its deadline"
                    )
            stop.append(op.id)  # ended here, or held by another runner: not ours to run either way
        self.unfinished = set(start)
        return Look(start=[i for i in start if i not in running], stop=stop)

    async def claim(self, item: str) -> bool:
        async with self.platform.db.unit_of_work() as uow:
            return await uow.operations.claim(item, self.me, seconds=self.lease)

    async def renew(self, running: frozenset[str]) -> set[str]:
        """Only the unfinished ones: an operation that has just ended is left to return by itself."""
        lost: set[str] = set()
        async with self.platform.db.unit_of_work() as uow:
            for item in running & self.unfinished:
                if not await uow.operations.claim(item, self.me, seconds=self.lease):
                    lost.add(item)
        return lost

    async def run(self, item: str) -> object:
        return await run_operation(self.platform, item)
