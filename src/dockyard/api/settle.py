"""Work a streaming response does that must not be cut in half when its client goes away.

Starlette cancels a ``StreamingResponse``'s generator the moment the client disconnects. A read that
is inside a database session at that moment has its connection's rollback cancelled too, and
SQLAlchemy logs "Exception during reset" with a traceback (seen in CI when the browser closed a
group's event stream). :func:`settled` lets such a read finish in its own task while the stream
still ends at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

# Strong references: the event loop keeps only weak ones to tasks, and a shielded task whose
# awaiter was cancelled has nobody else holding it.
_running: set[asyncio.Task[Any]] = set()


def _forget(task: asyncio.Task[Any]) -> None:
    _running.discard(task)
    if not task.cancelled():
        task.exception()  # retrieved, so a failure after the client left is not reported as "never retrieved"


async def settled(work: Coroutine[Any, Any, T]) -> T:
    """``await work``, except that cancelling the caller does not cancel ``work``: it runs to its end
    in its own task (its result or error then dropped) while the caller sees ``CancelledError`` at once."""
    task = asyncio.ensure_future(work)
    _running.add(task)
    task.add_done_callback(_forget)
    return await asyncio.shield(task)
