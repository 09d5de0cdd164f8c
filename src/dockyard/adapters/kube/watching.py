"""The list-then-watch loop shared by every watch cache: one resource kind, one label selector, one index.

Contract of :class:`WatchCache`:
- :meth:`~WatchCache.run` lists every object of its resource matching its labels in all namespaces,
  then watches from the list's resourceVersion. A 410 Gone (history compacted) or a watch silent for
  longer than the server's own watch timeout (a connection that died without closing) leads to a
  fresh list at once; any other error to a fresh list after a backoff of 0.5 s doubling to 30 s
  (reset once a list+watch has lasted 30 s). The index is replaced whole on each list, so deletions
  missed while disconnected disappear too.
- Each object is reduced by the cache's ``slim`` function to a record before it is stored; the index
  is the only state, and reads of it never do I/O. While disconnected, :attr:`~WatchCache.stale` is
  True and the last known records stay readable.
- :attr:`~WatchCache.synced` is set after the first successful list and never cleared.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, Generic, NoReturn, Protocol, TypeVar

from lightkube import ApiError
from lightkube.core.resource import NamespacedResource

from dockyard.adapters.kube.client import KubeCluster

_BACKOFF_FIRST, _BACKOFF_MAX = 0.5, 30.0
_HEALTHY_WATCH = 30.0  # a list+watch that lasted this long resets the backoff
_SERVER_TIMEOUT = 240  # seconds; the apiserver closes each watch request after this
_INACTIVITY = _SERVER_TIMEOUT + 60.0

R_contra = TypeVar("R_contra", contravariant=True)
RecordT = TypeVar("RecordT")
Labels = Mapping[str, str | None]  # lightkube's selector: a value of None means "the label exists"


class Index(Protocol[R_contra]):
    """Where a cache keeps its records; pure in-memory bookkeeping, keyed by (namespace, name)."""

    def __len__(self) -> int: ...

    def put(self, record: R_contra) -> None:
        """Add or replace the record of one object."""

    def remove(self, namespace: str, name: str) -> None:
        """Forget one object; nothing happens if it is unknown."""


IndexT = TypeVar("IndexT", bound=Index[Any])


class WatchCache(Generic[RecordT, IndexT]):
    """A list+watch of ``resource`` objects labelled ``labels`` (and matching ``fields``, a field
    selector: an object that stops matching is watched as deleted), as ``slim`` records in ``index()``.

    Subclasses add the reads that make sense for their records, over :attr:`_index`.
    """

    def __init__(
        self,
        cluster: KubeCluster,
        *,
        resource: type[Any],
        labels: Labels,
        slim: Callable[[Any], RecordT],
        index: Callable[[], IndexT],
        fields: Mapping[str, Any] | None = None,
    ) -> None:
        self._cluster = cluster
        self._resource = resource
        self._labels: dict[str, Any] = dict(labels)
        # Where to look: every namespace for namespaced kinds, and an optional field selector.
        self._where: dict[str, Any] = {"namespace": "*"} if issubclass(resource, NamespacedResource) else {}
        if fields:
            self._where["fields"] = dict(fields)
        self._slim = slim
        self._new_index = index
        self._index = index()
        self.synced = asyncio.Event()
        self.connected = False
        self.last_error = ""
        self.lists = 0  # how many full lists were made (first sync + every relist)

    @property
    def stale(self) -> bool:
        """True while the cache is not connected: its records are the last ones known."""
        return not self.connected

    def __len__(self) -> int:
        return len(self._index)

    async def run(self) -> None:
        """List and watch until cancelled; never raises but :class:`asyncio.CancelledError`."""
        delay = _BACKOFF_FIRST
        while True:
            started = time.monotonic()
            why = await self._list_and_watch()
            if why is None:
                continue  # history compacted, or a silent connection: list again at once
            if time.monotonic() - started > _HEALTHY_WATCH:
                delay = _BACKOFF_FIRST  # it had worked for a while: this is a new failure
            await self._disconnected(why, delay)
            delay = min(delay * 2, _BACKOFF_MAX)

    async def _list_and_watch(self) -> str | None:
        """One list then watch until it fails; ``None`` if a relist should follow at once, else why it failed."""
        try:
            version = await self._relist()
            await self._watch(version)
        except ApiError as e:
            if e.status.code == 410:
                return None
            return f"apiserver answered {e.status.code}: {e.status.message}"
        except TimeoutError:
            return None
        except Exception as e:  # transport errors, a decoding error, a closed client, an ended watch...: retry
            return f"{type(e).__name__}: {e}"

    async def _disconnected(self, why: str, delay: float) -> None:
        self.connected = False
        self.last_error = why
        await asyncio.sleep(delay)

    async def _relist(self) -> str:
        listing = self._cluster.client.list(self._resource, labels=self._labels, chunk_size=500, **self._where)
        index = self._new_index()
        async for obj in listing:
            index.put(self._slim(obj))
        self._index = index
        self.lists += 1
        self.connected, self.last_error = True, ""
        self.synced.set()
        return str(listing.resourceVersion)

    async def _watch(self, version: str) -> NoReturn:
        events = self._cluster.client.watch(
            self._resource,
            labels=self._labels,
            **self._where,
            resource_version=version,
            server_timeout=_SERVER_TIMEOUT,
        ).__aiter__()
        try:
            while True:
                # The server ends each watch within _SERVER_TIMEOUT and lightkube reconnects; silence
                # much longer than that means the connection died without closing.
                async with asyncio.timeout(_INACTIVITY):
                    kind, obj = await anext(events)
                self._apply(kind, obj)
        finally:
            self.connected = False
            with contextlib.suppress(Exception):
                await events.aclose()  # type: ignore[attr-defined]

    def _apply(self, kind: str, obj: Any) -> None:
        if kind != "DELETED":
            self._index.put(self._slim(obj))
        elif obj.metadata is not None:
            self._index.remove(obj.metadata.namespace or "", obj.metadata.name or "")


class Runs(Protocol):
    async def run(self) -> None: ...


C = TypeVar("C", bound=Runs)


@contextlib.asynccontextmanager
async def running(cache: C) -> AsyncIterator[C]:
    """Run ``cache`` (anything with ``async run()``) in a task for the duration of the block."""
    task = asyncio.create_task(cache.run())
    try:
        yield cache
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
