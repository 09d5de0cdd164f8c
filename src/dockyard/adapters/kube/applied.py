"""What one cluster client wrote, so that writes that would change nothing can be left out.

:class:`Applied` is pure bookkeeping (no I/O): for each object (api version, kind, namespace, name)
the SHA-256 of the content last applied through the client, or that it was found absent, and when.
An entry is trusted for ``ttl`` seconds, then forgotten: another replica, or someone with kubectl,
may have changed the object since, and a later write heals that. Everything known of a namespace is
forgotten at once by :meth:`Applied.forget` (the client does so on any error about an object in it:
a 404 there usually means the namespace itself is gone). The memory lives as long as its client, so
a cluster registered again with another kubeconfig starts with none.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

Key = tuple[str, str, str, str]  # api version, kind, namespace ("" for cluster-wide kinds), name
ABSENT = "absent"


def key_of(manifest: Mapping[str, Any]) -> Key:
    meta = manifest.get("metadata") or {}
    return (
        str(manifest.get("apiVersion", "")),
        str(manifest.get("kind", "")),
        str(meta.get("namespace") or ""),
        str(meta.get("name", "")),
    )


def digest(manifest: Mapping[str, Any]) -> str:
    """The SHA-256 of a manifest's content, its ``metadata.resourceVersion`` left out (a precondition,
    not content)."""
    meta = {k: v for k, v in (manifest.get("metadata") or {}).items() if k != "resourceVersion"}
    canonical = json.dumps({**manifest, "metadata": meta}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class Applied:
    def __init__(self, *, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._clock = clock
        self._known: dict[Key, tuple[str, float, Mapping[str, Any] | None]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def has(self, key: Key, content: str) -> bool:
        """Whether ``content`` (a :func:`digest`, or :data:`ABSENT`) is what was last known of ``key``,
        within the ttl."""
        entry = self._fresh(key)
        return entry is not None and entry[0] == content

    def manifest(self, key: Key) -> Mapping[str, Any] | None:
        """The manifest last applied as ``key``, within the ttl (``None`` if absent or unknown)."""
        entry = self._fresh(key)
        return entry[2] if entry else None

    def put(self, manifest: Mapping[str, Any]) -> None:
        """``manifest`` was applied as it is."""
        self._known[key_of(manifest)] = (digest(manifest), self._clock(), manifest)

    def put_absent(self, key: Key) -> None:
        """``key`` was deleted, or found absent."""
        self._known[key] = (ABSENT, self._clock(), None)

    def forget(self, namespace: str) -> None:
        """Forget everything in ``namespace`` and the namespace itself."""
        for key in [k for k in self._known if k[2] == namespace or (k[1] == "Namespace" and k[3] == namespace)]:
            del self._known[key]

    def lock(self, namespace: str) -> asyncio.Lock:
        """One lock per namespace, for writers that should take turns (and so find each other's writes)."""
        return self._locks.setdefault(namespace, asyncio.Lock())

    def _fresh(self, key: Key) -> tuple[str, float, Mapping[str, Any] | None] | None:
        entry = self._known.get(key)
        if entry is None:
            return None
        if self._clock() - entry[1] > self._ttl:
            del self._known[key]
            return None
        return entry
