"""Waiting for something the cluster, a watch cache or the server will do: the one way tests poll.

``eventually`` (in async tests) and ``eventually_blocking`` (in tests that drive processes) call a check
until it returns something truthy and return that value, so a test can wait for and then use the same
reading (``pods = await eventually(ready_pods, ...)``). A check that is not satisfied yet returns
something falsy, best :class:`Not` holding what it saw. On timeout they raise :class:`AssertionError`
saying what was awaited, for how long, and the last value seen (or the last exception the check
raised), so a failure reads as the state the test got stuck in rather than as "timed out".
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


class Not:
    """A check's "not yet", carrying what it saw instead (shown if the wait times out)."""

    def __init__(self, seen: object) -> None:
        self.seen = seen

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return repr(self.seen)


INTERVAL = 0.2  # seconds between two checks: short beside every wait here (the sandbox's pods take ~1 s)


class _Deadline:
    def __init__(self, what: str, timeout: float) -> None:
        self.what = what
        self.timeout = timeout
        self.until = time.monotonic() + timeout
        self.last: object = None

    def passed(self) -> bool:
        return time.monotonic() >= self.until

    def failure(self) -> AssertionError:
        last = self.last
        shown = f"{type(last).__name__}: {last}" if isinstance(last, BaseException) else repr(last)
        if len(shown) > 2000:
            shown = shown[:2000] + "…"
        return AssertionError(f"not within {self.timeout:.0f}s: {self.what} (last seen: {shown})")


async def eventually(
    check: Callable[[], T | Not | Awaitable[T | Not | None] | None],
    what: str,
    *,
    timeout: float = 60.0,
    interval: float = INTERVAL,
    retry: tuple[type[Exception], ...] = (),
) -> T:
    """The first truthy value ``check()`` returns (awaited if it is a coroutine function's).

    ``retry``: exceptions that count as "not yet" (e.g. a server still starting); others propagate.
    Raises :class:`AssertionError` naming ``what`` and the last value after ``timeout`` seconds.
    """
    deadline = _Deadline(what, timeout)
    while True:
        try:
            got = check()
            value = await got if inspect.isawaitable(got) else got
        except retry as e:
            deadline.last = e
        else:
            if value:
                return value  # type: ignore[return-value]
            deadline.last = value
        if deadline.passed():
            raise deadline.failure()
        await asyncio.sleep(interval)


def eventually_blocking(
    check: Callable[[], T | Not | None],
    what: str,
    *,
    timeout: float = 60.0,
    interval: float = INTERVAL,
    retry: tuple[type[Exception], ...] = (),
) -> T:
    """:func:`eventually` for synchronous tests (server processes, the CLI, the sandbox's processes)."""
    deadline = _Deadline(what, timeout)
    while True:
        try:
            value = check()
        except retry as e:
            deadline.last = e
        else:
            if value:
                return value  # type: ignore[return-value]
            deadline.last = value
        if deadline.passed():
            raise deadline.failure()
        time.sleep(interval)


async def within(timeout: float, what: str, awaitable: Awaitable[T]) -> T:
    """``awaitable``'s result (a task, a server stopping: one wait with nothing to poll); if it has not
    come within ``timeout`` seconds, it is cancelled and :class:`AssertionError` names ``what``."""
    scope = asyncio.timeout(timeout)
    try:
        async with scope:
            return await awaitable
    except TimeoutError:
        if scope.expired():
            raise AssertionError(f"not within {timeout:.0f}s: {what}") from None
        raise
