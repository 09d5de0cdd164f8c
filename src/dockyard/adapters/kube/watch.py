"""A watch cache of Dockyard's pods in one cluster: list, then watch; slim records; reads never hit the API.

Contract of :class:`PodCache`:
- :meth:`run` lists every pod with the label ``dockyard.io/group``, then watches from the list's
  resourceVersion. A 410 Gone (history compacted) or a watch silent for longer than the server's own
  watch timeout (a connection that died without closing) leads to a fresh list at once; any other
  error to a fresh list after a backoff of 0.5 s doubling to 30 s. The cache is replaced whole on
  each list, so deletions missed while disconnected disappear too.
- :meth:`group_pods` reads the in-memory index (no I/O). While disconnected, :attr:`stale` is True
  and the last known records stay readable.
- Records are :class:`PodRecord`: a few hundred bytes, not a full Pod model.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx2
from lightkube import ApiError
from lightkube.resources.core_v1 import Pod

from dockyard.adapters.kube.client import KubeCluster

GROUP_LABEL = "dockyard.io/group"
APP_LABEL = "dockyard.io/app"
_BACKOFF_FIRST, _BACKOFF_MAX = 0.5, 30.0
_HEALTHY_WATCH = 30.0  # a list+watch that lasted this long resets the backoff
_SERVER_TIMEOUT = 240  # seconds; the apiserver closes each watch request after this
_INACTIVITY = _SERVER_TIMEOUT + 60.0

GroupKey = tuple[str, str, str]  # namespace (= system), app, group


@dataclass(frozen=True, slots=True)
class PodRecord:
    """What Dockyard shows of an instance."""

    namespace: str
    name: str
    uid: str
    app: str
    group: str
    version: str
    phase: str
    ready: bool
    restarts: int
    pod_ip: str
    host_ip: str
    node: str
    created: float  # Unix time
    reason: str  # why it is not running well: a waiting/terminated reason, or the scheduler's
    deleting: bool

    @property
    def key(self) -> GroupKey:
        return (self.namespace, self.app, self.group)


def slim(pod: Any) -> PodRecord:
    """A :class:`PodRecord` of a lightkube Pod."""
    meta, spec, status = pod.metadata, pod.spec, pod.status
    labels = meta.labels or {}
    statuses = (status.containerStatuses if status else None) or []
    conditions = (status.conditions if status else None) or []
    reason = ""
    for c in statuses:
        state = c.state
        if state and state.waiting and state.waiting.reason:
            reason = state.waiting.reason
        elif state and state.terminated and state.terminated.reason:
            reason = state.terminated.reason
    for cond in conditions:
        if cond.type == "PodScheduled" and cond.status == "False":
            reason = cond.message or cond.reason or "Unschedulable"
    return PodRecord(
        namespace=meta.namespace or "",
        name=meta.name or "",
        uid=meta.uid or "",
        app=labels.get(APP_LABEL, ""),
        group=labels.get(GROUP_LABEL, ""),
        version=labels.get("dockyard.io/version", ""),
        phase=(status.phase if status else None) or "Pending",
        ready=any(c.type == "Ready" and c.status == "True" for c in conditions),
        restarts=sum(c.restartCount or 0 for c in statuses),
        pod_ip=(status.podIP if status else None) or "",
        host_ip=(status.hostIP if status else None) or "",
        node=(spec.nodeName if spec else None) or "",
        created=meta.creationTimestamp.timestamp() if meta.creationTimestamp else 0.0,
        reason=reason,
        deleting=meta.deletionTimestamp is not None,
    )


class PodIndex:
    """Pods by group, and by (namespace, name) for updates; pure in-memory bookkeeping."""

    def __init__(self, records: Iterable[PodRecord] = ()) -> None:
        self._by_name: dict[tuple[str, str], PodRecord] = {}
        self._by_group: dict[GroupKey, dict[str, PodRecord]] = {}
        for record in records:
            self.put(record)

    def __len__(self) -> int:
        return len(self._by_name)

    def put(self, record: PodRecord) -> None:
        old = self._by_name.get((record.namespace, record.name))
        if old is not None and old.key != record.key:
            self._by_group.get(old.key, {}).pop(old.name, None)
        self._by_name[(record.namespace, record.name)] = record
        self._by_group.setdefault(record.key, {})[record.name] = record

    def remove(self, namespace: str, name: str) -> None:
        old = self._by_name.pop((namespace, name), None)
        if old is not None:
            members = self._by_group.get(old.key, {})
            members.pop(name, None)
            if not members:
                self._by_group.pop(old.key, None)

    def group(self, key: GroupKey) -> list[PodRecord]:
        return sorted(self._by_group.get(key, {}).values(), key=lambda r: r.name)


class PodCache:
    def __init__(self, cluster: KubeCluster) -> None:
        self._cluster = cluster
        self._index = PodIndex()
        self.synced = asyncio.Event()
        self.connected = False
        self.last_error = ""
        self.lists = 0  # how many full lists were made (first sync + every relist)

    @property
    def stale(self) -> bool:
        """True while the cache is not connected: its records are the last ones known."""
        return not self.connected

    def group_pods(self, system: str, app: str, group: str) -> list[PodRecord]:
        return self._index.group((system, app, group))

    def __len__(self) -> int:
        return len(self._index)

    async def run(self) -> None:
        """List and watch until cancelled; never raises but :class:`asyncio.CancelledError`."""
        delay = _BACKOFF_FIRST
        while True:
            started = time.monotonic()
            try:
                version = await self._relist()
                await self._watch(version)
            except ApiError as e:
                if e.status.code == 410:
                    continue  # history compacted: list again at once
                why = f"apiserver answered {e.status.code}: {e.status.message}"
            except TimeoutError:
                continue  # silence past the server's own timeout: the connection may be dead; list again
            except (httpx2.HTTPError, OSError) as e:
                why = f"{type(e).__name__}: {e}"
            except Exception as e:  # a decoding error, a closed client...: never die, retry
                why = f"{type(e).__name__}: {e}"
            if time.monotonic() - started > _HEALTHY_WATCH:
                delay = _BACKOFF_FIRST  # it had worked for a while: this is a new failure
            await self._disconnected(why, delay)
            delay = min(delay * 2, _BACKOFF_MAX)

    async def _disconnected(self, why: str, delay: float) -> None:
        self.connected = False
        self.last_error = why
        await asyncio.sleep(delay)

    async def _relist(self) -> str:
        listing = self._cluster.client.list(Pod, namespace="*", labels={GROUP_LABEL: None}, chunk_size=500)
        index = PodIndex()
        async for pod in listing:
            index.put(slim(pod))
        self._index = index
        self.lists += 1
        self.connected, self.last_error = True, ""
        self.synced.set()
        return str(listing.resourceVersion)

    async def _watch(self, version: str) -> None:
        events = self._cluster.client.watch(
            Pod, namespace="*", labels={GROUP_LABEL: None}, resource_version=version, server_timeout=_SERVER_TIMEOUT
        ).__aiter__()
        try:
            while True:
                # The server ends each watch within _SERVER_TIMEOUT and lightkube reconnects; silence
                # much longer than that means the connection died without closing.
                async with asyncio.timeout(_INACTIVITY):
                    kind, pod = await anext(events)
                if kind != "DELETED":
                    self._index.put(slim(pod))
                elif pod.metadata is not None:
                    self._index.remove(pod.metadata.namespace or "", pod.metadata.name or "")
        finally:
            self.connected = False
            with contextlib.suppress(Exception):
                await events.aclose()  # type: ignore[attr-defined]


@contextlib.asynccontextmanager
async def running(cache: PodCache) -> Any:
    """Run ``cache`` in a task for the duration of the block."""
    task = asyncio.create_task(cache.run())
    try:
        yield cache
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
