"""Reads cached in the process for as long as the database says nothing they depend on changed.

The ``generations`` table holds counters that database triggers bump in the same transaction as any
change of the tables they cover (migration 0014): ``identity`` (users, API tokens, role bindings) and
``model`` (systems, applications, groups, where groups run, clusters). Contract of
:class:`GenerationCache`: an entry is returned only if it was stored at the generation the caller has
just read, it is younger than ``ttl`` seconds and, if it has an end (a token's expiry), that end has
not passed. So a cached read is exactly as current as the one-row read of its generation: a revoked
token, a changed role or a moved group is seen on the very next request, on any replica. The caller
reads the generation *before* loading what it caches and stores it with that generation: a change
committed in between makes the entry stale at once rather than cached as current.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

V = TypeVar("V")


@dataclass(frozen=True)
class _Entry(Generic[V]):
    value: V
    until: dt.datetime | None
    stored: float


class GenerationCache(Generic[V]):
    def __init__(self, *, ttl: float = 30.0, size: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl, self._size, self._clock = ttl, size, clock
        self._generation: int | None = None
        self._entries: dict[Hashable, _Entry[V]] = {}

    def get(self, key: Hashable, *, generation: int, now: dt.datetime | None = None) -> V | None:
        """The value stored for ``key`` at ``generation``, if still valid (at ``now``, for an entry with an end)."""
        if generation != self._generation:
            self._entries.clear()  # something changed: nothing stored before can be trusted
            self._generation = generation
            return None
        entry = self._entries.get(key)
        if entry is None:
            return None
        ended = entry.until is not None and (now is None or entry.until <= now)
        if ended or self._clock() - entry.stored > self._ttl:
            del self._entries[key]
            return None
        return entry.value

    def put(self, key: Hashable, value: V, *, generation: int, until: dt.datetime | None = None) -> None:
        """Keep ``value`` for ``key``, as loaded after reading ``generation``; ``until``: when it ends."""
        if generation != self._generation:
            return  # read under another generation than the cache now holds: not worth keeping
        if len(self._entries) >= self._size:
            self._entries.clear()
        self._entries[key] = _Entry(value, until, self._clock())
