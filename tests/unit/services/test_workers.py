"""The leased-worker loop with a fake work: claim, limit, wake-up, renewal, stop, errors, shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest

from dockyard.domain.errors import Unavailable
from dockyard.services.workers import Look, Tasks, run_leased, woken

SLOW = 30.0  # a poll no test waits for: what happens before it came from the wake-up event


@dataclass
class FakeWork:
    """Offers ``queue`` (all but the running), lets ``held`` be claimed; each run waits for its gate."""

    queue: list[str] = field(default_factory=list)
    held: set[str] = field(default_factory=set)
    lost: set[str] = field(default_factory=set)
    stop: list[str] = field(default_factory=list)
    fail: set[str] = field(default_factory=set)
    look_error: Exception | None = None
    gates: dict[str, asyncio.Event] = field(default_factory=dict)
    started: list[str] = field(default_factory=list)
    ended: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    renewals: list[frozenset[str]] = field(default_factory=list)
    looks: int = 0

    async def look(self, running: frozenset[str]) -> Look:
        self.looks += 1
        if self.look_error is not None:
            error, self.look_error = self.look_error, None
            raise error
        return Look(start=[i for i in self.queue if i not in running], stop=list(self.stop))

    async def claim(self, item: str) -> bool:
        return item in self.held

    async def renew(self, running: frozenset[str]) -> set[str]:
        self.renewals.append(running)
        return running & self.lost

    async def run(self, item: str) -> object:
        self.started.append(item)
        gate = self.gates.setdefault(item, asyncio.Event())
        try:
            await gate.wait()
            if item in self.fail:
                self.fail.discard(item)
                raise RuntimeError(f"{item} broke")
        except asyncio.CancelledError:
            self.cancelled.append(item)
            raise
        self.queue.remove(item)
        self.ended.append(item)
        return item

    def finish(self, item: str) -> None:
        self.gates.setdefault(item, asyncio.Event()).set()


async def until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():  # noqa: ASYNC110 - the conditions are the fake's plain fields
            await asyncio.sleep(0.005)


@dataclass
class Loop:
    work: FakeWork
    wake: asyncio.Event
    tasks: Tasks


@contextlib.asynccontextmanager
async def loop(
    work: FakeWork, *, poll: float = SLOW, renew_every: float = SLOW, limit: int | None = None
) -> AsyncIterator[Loop]:
    wake, tasks = asyncio.Event(), Tasks()
    runner = asyncio.create_task(
        run_leased(work, name="thing", wake=wake, poll=poll, renew_every=renew_every, limit=limit, tasks=tasks)
    )
    try:
        yield Loop(work, wake, tasks)
    finally:
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner


async def test_only_claimed_items_run() -> None:
    work = FakeWork(queue=["a", "b", "c"], held={"a", "c"})
    async with loop(work) as running:
        await until(lambda: work.started == ["a", "c"])
        assert running.tasks.ids() == {"a", "c"}
        work.finish("a")
        await until(lambda: work.ended == ["a"])
        await until(lambda: running.tasks.ids() == {"c"})  # reaped at the round its end woke
    assert work.started == ["a", "c"]


async def test_the_limit_holds_and_a_freed_slot_is_filled_at_once() -> None:
    work = FakeWork(queue=["a", "b", "c"], held={"a", "b", "c"})
    async with loop(work, limit=2) as running:
        await until(lambda: work.started == ["a", "b"])
        await asyncio.sleep(0.05)
        assert work.started == ["a", "b"]
        work.finish("a")  # no poll comes for 30 s: the task's end wakes the loop
        await until(lambda: work.started == ["a", "b", "c"])
        assert running.tasks.ids() == {"b", "c"}


async def test_the_wake_up_event_starts_new_work_without_waiting_for_the_poll() -> None:
    work = FakeWork(held={"a", "b"})
    async with loop(work) as running:
        await until(lambda: work.looks == 1)
        work.queue.append("a")
        running.wake.set()
        await until(lambda: work.started == ["a"])
        work.queue.append("b")
        await asyncio.sleep(0.05)
        assert work.started == ["a"]  # not woken: waits for the poll
        running.wake.set()
        await until(lambda: work.started == ["a", "b"])


async def test_the_poll_alone_finds_new_work() -> None:
    work = FakeWork(held={"a"})
    async with loop(work, poll=0.02):
        await until(lambda: work.looks >= 1)
        work.queue.append("a")
        await until(lambda: work.started == ["a"])


async def test_leases_are_renewed_while_running_and_a_lost_one_is_stopped() -> None:
    work = FakeWork(queue=["a", "b"], held={"a", "b"})
    async with loop(work, poll=0.01, renew_every=0.0) as running:
        await until(lambda: len(work.renewals) >= 3)
        assert work.renewals[-1] == {"a", "b"}
        work.held.discard("a")  # another runner took it over
        work.lost.add("a")
        await until(lambda: work.cancelled == ["a"])
        await until(lambda: running.tasks.ids() == {"b"})
    assert "a" not in work.ended


async def test_renewal_waits_for_its_period_and_skips_an_idle_runner() -> None:
    work = FakeWork(queue=[], held={"a"})
    async with loop(work, poll=0.01, renew_every=SLOW) as running:
        await until(lambda: work.looks >= 5)
        assert work.renewals == []  # nothing runs: nothing to renew
        work.queue.append("a")
        running.wake.set()
        await until(lambda: work.started == ["a"])
        looks = work.looks
        await until(lambda: work.looks >= looks + 5)
        assert work.renewals == [frozenset({"a"})]  # once, at the first round something ran; then every 30 s


async def test_a_stopped_item_is_cancelled_and_not_started_again_while_it_ends() -> None:
    work = FakeWork(queue=["a"], held={"a"})
    async with loop(work, poll=0.01) as running:
        await until(lambda: work.started == ["a"])
        work.stop.append("a")
        await until(lambda: work.cancelled == ["a"])
        work.stop.clear()
        await until(lambda: running.tasks.ids() == {"a"} and work.looks > 3)
        # still offered (the fake's queue keeps it) and claimable: started again only once reaped
        await until(lambda: work.started == ["a", "a"])


async def test_a_run_that_raises_is_logged_and_claimed_again(caplog: pytest.LogCaptureFixture) -> None:
    work = FakeWork(queue=["a"], held={"a"}, fail={"a"})
    with caplog.at_level(logging.WARNING, logger="dockyard.services.workers"):
        async with loop(work) as running:
            await until(lambda: work.started == ["a"])
            work.finish("a")
            await until(lambda: work.started == ["a", "a"])  # its end woke the loop: offered and claimed again
            await until(lambda: work.ended == ["a"])
            assert running.tasks.ids() in (frozenset(), frozenset({"a"}))
    assert "thing a: a broke (will retry)" in caplog.text


async def test_an_error_of_the_database_in_a_round_is_logged_and_the_loop_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    work = FakeWork(queue=["a"], held={"a"}, look_error=Unavailable("the database is away"))
    with caplog.at_level(logging.WARNING, logger="dockyard.services.workers"):
        async with loop(work, poll=0.01):
            await until(lambda: work.started == ["a"])
    assert "thing: the database is away" in caplog.text


async def test_shutdown_cancels_the_running_items_and_waits_for_them() -> None:
    work = FakeWork(queue=["a", "b"], held={"a", "b"})
    cleaned: list[str] = []

    async def run(item: str) -> object:
        work.started.append(item)
        try:
            await asyncio.Event().wait()
        finally:
            await asyncio.sleep(0.02)  # a cleanup that takes a while: the loop waits for it
            cleaned.append(item)
        return item

    work.run = run  # type: ignore[method-assign]
    async with loop(work):
        await until(lambda: work.started == ["a", "b"])
    assert sorted(cleaned) == ["a", "b"]


async def test_shutdown_swallows_the_errors_of_the_runs() -> None:
    work = FakeWork(queue=["a"], held={"a"})

    async def run(item: str) -> object:
        work.started.append(item)
        try:
            await asyncio.Event().wait()
        finally:
            raise RuntimeError("cleanup failed")

    work.run = run  # type: ignore[method-assign]
    async with loop(work):
        await until(lambda: work.started == ["a"])


async def test_a_loop_cancelled_as_its_event_is_set_stops() -> None:
    """The wait between rounds gives up a cancellation that comes as the event is set (Python 3.11's
    ``wait_for(event.wait(), …)`` returned instead, and the loop, and a shutdown awaiting it, ran on)."""
    event = asyncio.Event()
    rounds = 0

    async def loop() -> None:
        nonlocal rounds
        while True:
            rounds += 1
            await woken(event, SLOW)
            event.clear()

    task = asyncio.create_task(loop())
    await asyncio.sleep(0)  # waiting for the event
    event.set()
    await asyncio.sleep(0)  # the wait has seen it; the loop has not run on yet
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=5)
    assert task in done, f"the loop ran on after its cancel: {rounds} rounds"
    assert task.cancelled()


async def test_woken_says_whether_the_event_came() -> None:
    event = asyncio.Event()
    assert await woken(event, 0.01) is False
    event.set()
    assert await woken(event, SLOW) is True
