"""The list-then-watch loop shared by every watch cache: one resource kind, one label selector, one index.

Contract of :class:`WatchCache`:
- :meth:`~WatchCache.run` lists every object of its resource matching its labels in all namespaces,
  then watches from the list's resourceVersion. A 410 Gone (history compacted) or a watch silent for
  longer than the server's own watch timeout (a connection that died without closing) leads to a
  fresh list at once; any other error to a fresh list after a backoff of 0.5 s doubling to 30 s
  (reset once a list+watch has lasted 30 s). The index is replaced whole on each list, so deletions
  missed while disconnected disappear too.
- Each object's JSON is decoded straight into the cache's ``wire`` struct (the few fields it reads:
  see :mod:`~dockyard.adapters.kube.wire`; no lightkube model is built) and reduced by its ``slim``
  function to a record before it is stored; the index is the only state, and reads of it never do
  I/O. While disconnected, :attr:`~WatchCache.stale` is True and the last known records stay readable.
- Lists go page by page (500 objects), letting other tasks run between pages; watches ask for
  bookmarks, so a quiet watch still moves its resourceVersion on and reconnects without a relist.
- :attr:`~WatchCache.synced` is set after the first successful list and never cleared.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, Generic, NoReturn, Protocol, TypeVar

import msgspec

from dockyard.adapters.kube import wire
from dockyard.adapters.kube.client import KubeCluster
from dockyard.adapters.kube.errors import KubeApiError

_BACKOFF_FIRST, _BACKOFF_MAX = 0.5, 30.0
_HEALTHY_WATCH = 30.0  # a list+watch that lasted this long resets the backoff
_SERVER_TIMEOUT = 240  # seconds; the apiserver closes each watch request after this
_INACTIVITY = _SERVER_TIMEOUT + 60.0

_PAGE = 500
R_contra = TypeVar("R_contra", contravariant=True)
RecordT = TypeVar("RecordT")
WireT = TypeVar("WireT", bound="HasMeta")
Labels = Mapping[str, str | None]  # a value of None means "the label exists"


class HasMeta(Protocol):
    @property
    def metadata(self) -> wire.Meta | None: ...


def label_selector(labels: Labels) -> str:
    """The ``labelSelector`` of ``labels``: ``key=value``, or ``key`` alone for "the label exists"."""
    return ",".join(key if value is None else f"{key}={value}" for key, value in labels.items())


class Index(Protocol[R_contra]):
    """Where a cache keeps its records; pure in-memory bookkeeping, keyed by (namespace, name)."""

    def __len__(self) -> int: ...

    def put(self, record: R_contra) -> None:
        """Add or replace the record of one object."""

    def remove(self, namespace: str, name: str) -> None:
        """Forget one object; nothing happens if it is unknown."""


IndexT = TypeVar("IndexT", bound=Index[Any])


class WatchCache(Generic[WireT, RecordT, IndexT]):
    """A list+watch of the objects at ``path`` (a collection of every namespace, e.g. ``/api/v1/pods``)
    labelled ``labels`` (and matching ``fields``, a field selector: an object that stops matching is
    watched as deleted), each decoded as a ``wire`` struct and kept as its ``slim`` record in ``index()``.

    Subclasses add the reads that make sense for their records, over :attr:`_index`.
    """

    def __init__(
        self,
        cluster: KubeCluster,
        *,
        path: str,
        wire_type: type[WireT],
        labels: Labels,
        slim: Callable[[WireT], RecordT],
        index: Callable[[], IndexT],
        fields: str = "",
    ) -> None:
        self._cluster = cluster
        self._path = path
        self._where: dict[str, str] = {}
        if labels:
            self._where["labelSelector"] = label_selector(labels)
        if fields:
            self._where["fieldSelector"] = fields
        self._pages: msgspec.json.Decoder[wire.Page[WireT]] = msgspec.json.Decoder(wire.Page[wire_type])  # type: ignore[valid-type]
        self._events: msgspec.json.Decoder[wire.Event[WireT]] = msgspec.json.Decoder(wire.Event[wire_type])  # type: ignore[valid-type]
        self._slim = slim
        self._new_index = index
        self._index = index()
        self.synced = asyncio.Event()
        self.connected = False
        self.last_error = ""
        self.lists = 0  # how many full lists were made (first sync + every relist)
        self.heard = 0.0  # time.monotonic() of the last list or watch event (bookmarks too); 0: never

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
        except KubeApiError as e:
            if e.status == 410:
                return None
            return f"apiserver answered {e.status}: {e}"
        except TimeoutError:
            return None
        except Exception as e:  # transport errors, a decoding error, a closed client, an ended watch...: retry
            return f"{type(e).__name__}: {e}"

    async def _disconnected(self, why: str, delay: float) -> None:
        self.connected = False
        self.last_error = why
        await asyncio.sleep(delay)

    async def _relist(self) -> str:
        index = self._new_index()
        params = {**self._where, "limit": str(_PAGE)}
        while True:
            page = self._pages.decode(await self._cluster.get_bytes(self._path, params))
            for item in page.items or ():
                index.put(self._slim(item))
            meta = page.metadata or wire.ListMeta()
            if not meta.continue_:
                break
            params["continue"] = meta.continue_
        self._index = index
        self.lists += 1
        self.heard = time.monotonic()
        self.connected, self.last_error = True, ""
        self.synced.set()
        return meta.resourceVersion or ""

    async def _watch(self, version: str) -> NoReturn:
        params = {**self._where, "watch": "true", "allowWatchBookmarks": "true", "timeoutSeconds": str(_SERVER_TIMEOUT)}
        try:
            while True:  # the server ends each watch within _SERVER_TIMEOUT: go on from the last version seen
                async with self._cluster.watch_lines(self._path, {**params, "resourceVersion": version}) as lines:
                    while True:
                        # Silence much longer than the server's timeout means the connection died without closing.
                        async with asyncio.timeout(_INACTIVITY):
                            line = await anext(lines, None)
                        if line is None:
                            break
                        if line:
                            version = self._apply(line) or version
        finally:
            self.connected = False

    def _apply(self, line: str) -> str | None:
        """Apply one watch event; returns the resourceVersion it brings."""
        self.heard = time.monotonic()
        try:
            event = self._events.decode(line)
        except msgspec.ValidationError:
            event = None  # not an object of this kind: an ERROR event's Status, as decoded below
        if event is None or event.type == "ERROR":
            status = msgspec.json.decode(line, type=wire.Event[wire.Status]).object
            raise KubeApiError(status.message or "watch error", status=status.code or 500, reason=status.reason or "")
        meta = event.object.metadata or wire.NO_META
        if event.type == "DELETED":
            self._index.remove(meta.namespace or "", meta.name or "")
        elif event.type != "BOOKMARK":
            self._index.put(self._slim(event.object))
        return meta.resourceVersion


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
