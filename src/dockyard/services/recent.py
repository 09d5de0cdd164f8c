"""Keys seen a moment ago: a set whose members expire ``ttl`` seconds after they were added.

For reads that may lag the database by a moment without harm, where even a generation read (see
:mod:`dockyard.services.generations`) costs more than what it guards. Contract: :meth:`Recent.seen` is
true only for a key :meth:`Recent.add`-ed less than ``ttl`` seconds ago (by ``clock``); the set never
holds more than ``size`` keys (when full it starts over).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable


class Recent:
    def __init__(self, *, ttl: float = 2.0, size: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl, self._size, self._clock = ttl, size, clock
        self._added: dict[Hashable, float] = {}

    def seen(self, key: Hashable) -> bool:
        """Whether ``key`` was added less than ``ttl`` seconds ago."""
        added = self._added.get(key)
        if added is None:
            return False
        if self._clock() - added >= self._ttl:
            del self._added[key]
            return False
        return True

    def add(self, key: Hashable) -> None:
        if len(self._added) >= self._size:
            self._added.clear()
        self._added[key] = self._clock()
