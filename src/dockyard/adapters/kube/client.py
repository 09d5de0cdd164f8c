"""A Kubernetes cluster as Dockyard talks to it: lightkube underneath, plain dicts and our errors on top.

Contract: every method raises only :mod:`dockyard.adapters.kube.errors`; objects go in and come out as
plain ``dict`` manifests, so callers need not import lightkube. Writes use server-side apply under the
field manager ``dockyard`` unless they are creations of objects whose status matters (fake nodes).

A client remembers what it applied with :meth:`KubeCluster.ensure` (and deleted with
:meth:`KubeCluster.ensure_absent`) for :data:`REMEMBER` seconds (see :mod:`.applied`), so writing the
same content again within that time sends nothing; any error about an object of a namespace makes it
forget everything of that namespace.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import httpx2
import yaml
from lightkube import ApiError, AsyncClient, KubeConfig, codecs
from lightkube.config.client_adapter import AsyncClient as raw_async_client
from lightkube.config.client_adapter import ConnectionParams
from lightkube.core.exceptions import ConfigError, LoadResourceError
from lightkube.core.resource import NamespacedResource, Resource
from lightkube.generic_resource import create_global_resource, create_namespaced_resource

from dockyard.adapters.kube.applied import ABSENT, Applied, digest, key_of
from dockyard.adapters.kube.errors import (
    KubeApiError,
    KubeConflictError,
    KubeError,
    KubeNotFoundError,
    KubeUnavailableError,
)
from dockyard.domain.clusters import IN_CLUSTER

FIELD_MANAGER = "dockyard"
REMEMBER = 60.0  # seconds a client trusts what it wrote with ensure() to be still in place
T = TypeVar("T")


@dataclass(frozen=True)
class Health:
    """Whether a cluster's apiserver reports ready, and why not."""

    ok: bool
    detail: str


class KubeCluster:
    """One Kubernetes API endpoint. Use as an async context manager or call :meth:`aclose`."""

    def __init__(self, kubeconfig: Path, *, timeout: float = 10.0) -> None:
        """Load the kubeconfig file ``kubeconfig`` on this host (the sandbox's tooling and tests; the
        server uses :meth:`from_kubeconfig`) and open clients; any problem is a :class:`KubeError`."""
        self._open(lambda: KubeConfig.from_file(str(kubeconfig)), f"kubeconfig {kubeconfig}", timeout, detail=True)

    @classmethod
    def from_kubeconfig(cls, kubeconfig: str, *, timeout: float = 10.0, transport: Any = None) -> KubeCluster:
        """A cluster from a kubeconfig's content (YAML text, loaded in memory: no file is written), or,
        for :data:`IN_CLUSTER`, the pod's service account. Errors never quote the content.
        ``transport`` (an ``httpx2`` async transport) replaces the network, for tests."""
        cluster = cls.__new__(cls)
        if kubeconfig == IN_CLUSTER:
            cluster._open(KubeConfig.from_service_account, "the in-cluster service account", timeout, detail=True)
        else:
            with _in_memory_files(_parse(kubeconfig)) as conf:
                cluster._open(
                    lambda: KubeConfig.from_dict(conf), "the kubeconfig", timeout, detail=False, transport=transport
                )
        return cluster

    def _open(
        self, load: Callable[[], KubeConfig], what: str, timeout: float, *, detail: bool, transport: Any = None
    ) -> None:
        """Load and connect; errors name ``what`` and, with ``detail``, lightkube's reason (which may
        quote names from the kubeconfig: not for content stored sealed)."""
        try:
            config = load().get()
            if config is None:
                raise KubeError(f"{what} has no current context")
            self._config = config
            self._timeout = httpx2.Timeout(timeout)
            self._client = AsyncClient(
                config=config, field_manager=FIELD_MANAGER, timeout=self._timeout, transport=transport
            )
            self._raw = raw_async_client(config, ConnectionParams(timeout=self._timeout, transport=transport))
            self._applied = Applied(ttl=REMEMBER)
        except KubeError:
            raise
        except (ConfigError, OSError) as e:
            if not detail:
                raise KubeError(f"cannot load {what}: {type(e).__name__}") from None
            raise KubeError(f"cannot load {what}: {e}") from e
        except Exception as e:
            # Malformed YAML, bad base64, unreadable certificates...: name the kind, not the contents,
            # which may hold credentials.
            raise KubeError(f"cannot use {what}: {type(e).__name__}") from None

    @property
    def client(self) -> AsyncClient:
        """The lightkube client, for what this class does not offer (benches, tests)."""
        return self._client

    async def aclose(self) -> None:
        await self._client.close()
        await self._raw.aclose()

    async def __aenter__(self) -> KubeCluster:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def health(self) -> Health:
        """Ask ``/readyz``; never raises."""
        try:
            response = await self._raw.get("/readyz")
        except httpx2.HTTPError as e:
            return Health(ok=False, detail=f"unreachable: {type(e).__name__}: {e}".rstrip(": "))
        if response.status_code == 200:
            return Health(ok=True, detail="ready")
        return Health(ok=False, detail=f"/readyz answered {response.status_code}")

    async def probe(self, path: str) -> tuple[int, str]:
        """GET ``path`` and return its status code and text (at most 64 KiB) whatever the status;
        :class:`KubeUnavailableError` if the apiserver cannot be reached (the inspection's reads)."""
        try:
            response = await self._raw.get(path)
        except httpx2.HTTPError as e:
            raise KubeUnavailableError(f"GET {path}: {type(e).__name__}: {e}".rstrip(": ")) from e
        return response.status_code, response.text[:65536]

    async def lines(self, path: str, prefixes: tuple[str, ...]) -> list[str]:
        """GET ``path`` (a text body such as ``/metrics``) and keep only the lines starting with one
        of ``prefixes``, reading it as it streams (the apiserver's /metrics runs to megabytes)."""
        try:
            async with self._raw.stream("GET", path) as response:
                if response.status_code >= 400:
                    raise _body_error(f"GET {path}", response.status_code, await response.aread())
                return [line async for line in response.aiter_lines() if line.startswith(prefixes)]
        except httpx2.HTTPError as e:
            raise KubeUnavailableError(f"GET {path}: {type(e).__name__}: {e}".rstrip(": ")) from e

    @property
    def server(self) -> str:
        """The apiserver's URL as the kubeconfig names it."""
        return str(self._config.cluster.server)

    async def get_json(self, path: str) -> dict[str, Any]:
        """GET an API path (e.g. ``/apis/metrics.k8s.io/v1beta1/pods``) and return its JSON."""
        try:
            response = await self._raw.get(path)
        except httpx2.HTTPError as e:
            raise KubeUnavailableError(f"GET {path}: {e}") from e
        if response.status_code >= 400:
            raise _status_error(f"GET {path}", response.status_code, response.text[:300])
        body: dict[str, Any] = response.json()
        return body

    async def get_bytes(self, path: str, params: Mapping[str, str]) -> bytes:
        """GET an API path with query ``params`` and return the body as it came (for the watch caches,
        which decode it themselves)."""
        try:
            response = await self._raw.get(path, params=dict(params))
        except httpx2.HTTPError as e:
            raise KubeUnavailableError(f"GET {path}: {type(e).__name__}: {e}") from e
        if response.status_code >= 400:
            raise _body_error(f"GET {path}", response.status_code, response.content)
        return bytes(response.content)

    @asynccontextmanager
    async def watch_lines(self, path: str, params: Mapping[str, str]) -> AsyncIterator[AsyncIterator[str]]:
        """Open a watch (``params`` should hold ``watch=true``) and yield its stream of lines, one
        JSON event each, until the server ends it; transport errors come as :class:`KubeUnavailableError`."""
        timeout = httpx2.Timeout(self._timeout.connect, read=None)  # a watch is silent as long as nothing changes
        request = self._raw.build_request("GET", path, params=dict(params), timeout=timeout)
        try:
            response = await self._raw.send(request, stream=True)
        except httpx2.HTTPError as e:
            raise KubeUnavailableError(f"watch {path}: {type(e).__name__}: {e}") from e
        try:
            if response.status_code >= 400:
                raise _body_error(f"watch {path}", response.status_code, await response.aread())
            yield _lines(response, f"watch {path}")
        finally:
            await response.aclose()

    @asynccontextmanager
    async def pod_log(
        self,
        namespace: str,
        pod: str,
        *,
        container: str,
        follow: bool,
        since_time: str | None = None,
        tail_lines: int | None = None,
    ) -> AsyncIterator[AsyncIterator[str]]:
        """Open a container's log (``pods/log`` with ``timestamps=true``) and yield its lines, each
        ``<RFC3339Nano> <text>``, until the server ends it (with ``follow``: when the container stops,
        or never for a KWOK pod). A pod that does not exist is :class:`KubeNotFoundError`, a log the
        node cannot serve (a container not started yet, KWOK without a ``Logs`` for it) a
        :class:`KubeApiError`, transport errors :class:`KubeUnavailableError`."""
        params = {"container": container, "timestamps": "true"}
        if follow:
            params["follow"] = "true"
        if since_time is not None:
            params["sinceTime"] = since_time
        if tail_lines is not None:
            params["tailLines"] = str(tail_lines)
        path = f"/api/v1/namespaces/{namespace}/pods/{pod}/log"
        timeout = httpx2.Timeout(self._timeout.connect, read=None if follow else self._timeout.read)
        request = self._raw.build_request("GET", path, params=params, timeout=timeout)
        try:
            response = await self._raw.send(request, stream=True)
        except httpx2.HTTPError as e:
            raise KubeUnavailableError(f"logs of {namespace}/{pod}: {type(e).__name__}: {e}") from e
        try:
            if response.status_code >= 400:
                raise _body_error(f"logs of {namespace}/{pod}", response.status_code, await response.aread())
            yield _lines(response, f"logs of {namespace}/{pod}")
        finally:
            await response.aclose()

    async def apply(self, manifest: dict[str, Any], *, remember: bool = False) -> dict[str, Any]:
        """Server-side apply ``manifest`` (forcing ownership of its fields); returns the result. With
        ``remember``, :meth:`ensure` and :meth:`remembered` know it afterwards."""
        obj = _load(manifest)
        result = await self._writing(_namespace_of(manifest), lambda: self._client.apply(obj, force=True))
        if remember:
            self._applied.put(manifest)
        return _dump(result)

    async def ensure(self, manifest: dict[str, Any]) -> bool:
        """Apply ``manifest`` unless this client applied the very same content in the last
        :data:`REMEMBER` seconds (without an error about its namespace since); True if it was written."""
        if self._applied.has(key_of(manifest), digest(manifest)):
            return False
        await self.apply(manifest, remember=True)
        return True

    async def ensure_absent(self, api_version: str, kind: str, name: str, *, namespace: str) -> bool:
        """Delete one object unless this client deleted it, or found it absent, in the last
        :data:`REMEMBER` seconds; True if a delete was sent."""
        if self._applied.has((api_version, kind, namespace, name), ABSENT):
            return False
        await self.delete(api_version, kind, name, namespace=namespace)
        return True

    def remembered(self, api_version: str, kind: str, name: str, *, namespace: str = "") -> dict[str, Any] | None:
        """The manifest this client last applied with ``remember`` as that object, if within
        :data:`REMEMBER` seconds (no I/O; ``None`` if unknown)."""
        found = self._applied.manifest((api_version, kind, namespace, name))
        return dict(found) if found is not None else None

    def serialized(self, namespace: str) -> asyncio.Lock:
        """A lock of this client for ``namespace``: writers of its shared objects take turns, so each
        finds what the one before it remembered."""
        return self._applied.lock(namespace)

    async def replace(self, manifest: dict[str, Any]) -> dict[str, Any]:
        """Replace the whole object with ``manifest`` (PUT): fields others added are dropped too.
        With ``metadata.resourceVersion`` set, a concurrent change makes it a :class:`KubeConflictError`."""
        obj = _load(manifest)
        return _dump(await self._writing(_namespace_of(manifest), lambda: self._client.replace(obj)))

    async def create(self, manifest: dict[str, Any]) -> bool:
        """Create ``manifest`` as given (status included); ``False`` if it already existed."""
        obj = _load(manifest)
        try:
            await self._writing(_namespace_of(manifest), lambda: self._client.create(obj))
        except KubeConflictError:
            return False
        return True

    async def evict(self, name: str, *, namespace: str) -> bool:
        """Ask the Eviction API to evict a pod (its PodDisruptionBudgets are honoured); False when a
        budget refuses it now (429), True when it is evicted or already gone."""
        body = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name, "namespace": namespace}}
        path = f"/api/v1/namespaces/{namespace}/pods/{name}/eviction"
        try:
            response = await self._raw.post(path, json=body)
        except httpx2.HTTPError as e:
            raise KubeUnavailableError(f"POST {path}: {type(e).__name__}: {e}".rstrip(": ")) from e
        if response.status_code == 429:
            return False
        if response.status_code == 404:
            return True
        if response.status_code >= 400:
            raise _body_error(f"POST {path}", response.status_code, response.content)
        return True

    async def _writing(self, namespace: str, fn: Callable[[], Awaitable[T]]) -> T:
        """``fn``'s write, after which, if it fails, nothing of ``namespace`` is remembered."""
        try:
            return await _call(fn)
        except KubeError:
            self._applied.forget(namespace)
            raise

    async def create_many(self, manifests: list[dict[str, Any]], *, concurrency: int = 64) -> int:
        """Create every manifest with at most ``concurrency`` requests in flight; returns how many were new."""
        gate = asyncio.Semaphore(concurrency)

        async def one(manifest: dict[str, Any]) -> bool:
            async with gate:
                return await self.create(manifest)

        results = await asyncio.gather(*(one(m) for m in manifests))
        return sum(results)

    async def delete(self, api_version: str, kind: str, name: str, *, namespace: str | None = None) -> bool:
        """Delete one object; ``False`` if it was already gone."""
        res = _resource(api_version, kind)
        gone = True
        try:
            await _call(lambda: self._client.delete(res, name, namespace=namespace))
        except KubeNotFoundError:
            gone = False  # not an error of the namespace: deleting what is not there
        except KubeError:
            self._applied.forget(namespace or name)
            raise
        if kind == "Namespace":
            self._applied.forget(name)  # what was in it goes with it
        self._applied.put_absent((api_version, kind, namespace or "", name))
        return gone

    async def delete_all(self, api_version: str, kind: str, *, namespace: str) -> None:
        """Delete every object of a kind in ``namespace`` with one request."""
        res = _resource(api_version, kind)
        await _call(lambda: self._client.deletecollection(res, namespace=namespace))

    async def list(
        self,
        api_version: str,
        kind: str,
        *,
        namespace: str | None = None,
        labels: dict[str, str] | None = None,
    ) -> list[dict[str, Any]]:
        """List objects (for setup and tests; request paths read watch caches instead)."""
        res = _resource(api_version, kind)
        items: list[dict[str, Any]] = []

        async def collect() -> None:
            scope = (namespace or "*") if _namespaced(res) else None
            selector: dict[str, Any] | None = dict(labels) if labels else None
            async for obj in self._client.list(res, namespace=scope, labels=selector, chunk_size=500):
                items.append(_dump(obj))

        await _call(collect)
        return items

    async def get(self, api_version: str, kind: str, name: str, *, namespace: str | None = None) -> dict[str, Any]:
        res = _resource(api_version, kind)
        return _dump(await _call(lambda: self._client.get(res, name, namespace=namespace)))

    async def pod_log_tail(self, namespace: str, name: str, *, tail_lines: int, previous: bool = False) -> str:
        """``pods/log``: the last ``tail_lines`` lines of the pod's (first) container, with timestamps."""
        params = {"tailLines": str(tail_lines), "timestamps": "true"}
        if previous:
            params["previous"] = "true"
        path = f"/api/v1/namespaces/{_segment(namespace)}/pods/{_segment(name)}/log"
        body = await self.get_bytes(path, params)
        return body.decode(errors="replace")

    async def pod_events(self, namespace: str, name: str) -> tuple[dict[str, Any], ...]:
        """The Events about pod ``name``, selected by the apiserver (``fieldSelector``)."""
        selector = f"involvedObject.kind=Pod,involvedObject.name={name}"
        body = await self.get_bytes(
            f"/api/v1/namespaces/{_segment(namespace)}/events", {"fieldSelector": selector, "limit": "500"}
        )
        items = json.loads(body).get("items") or []
        return tuple(item for item in items if isinstance(item, dict))


def _segment(name: str) -> str:
    return quote(name, safe="")


async def _call(fn: Callable[[], Awaitable[T]]) -> T:
    try:
        return await fn()
    except ApiError as e:
        status = e.status
        raise _status_error(str(status.message or e), int(status.code or 0), str(status.reason or "")) from e
    except httpx2.HTTPError as e:
        raise KubeUnavailableError(f"{type(e).__name__}: {e}") from e


async def _lines(response: httpx2.Response, path: str) -> AsyncIterator[str]:
    try:
        async for line in response.aiter_lines():
            yield line
    except httpx2.HTTPError as e:
        raise KubeUnavailableError(f"{path}: {type(e).__name__}: {e}") from e


def _body_error(what: str, code: int, body: bytes) -> KubeError:
    """The error of an answer ``code`` whose body is (usually) a JSON ``Status``."""
    try:
        status = json.loads(body)
    except ValueError:
        status = None
    if not isinstance(status, dict):
        return _status_error(f"{what}: {body[:300].decode(errors='replace')}", code, "")
    return _status_error(f"{what}: {status.get('message') or ''}", code, str(status.get("reason") or ""))


def _namespace_of(manifest: dict[str, Any]) -> str:
    """The namespace an object is in; for a Namespace, itself."""
    meta = manifest.get("metadata") or {}
    return str(meta.get("name", "")) if manifest.get("kind") == "Namespace" else str(meta.get("namespace") or "")


def _status_error(message: str, code: int, reason: str) -> KubeError:
    if code == 404:
        return KubeNotFoundError(message, status=code, reason=reason)
    if code == 409:
        return KubeConflictError(message, status=code, reason=reason)
    if code >= 500 or code in (0, 429):
        return KubeUnavailableError(message)
    return KubeApiError(message, status=code, reason=reason)


def _parse(kubeconfig: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(kubeconfig)
    except yaml.YAMLError:
        raise KubeError("cannot use the kubeconfig: it is not valid YAML") from None
    if not isinstance(data, dict):
        raise KubeError("cannot use the kubeconfig: it is not a YAML mapping")
    return data


_IN_MEMORY = {
    "clusters": ("cluster", {"certificate-authority-data": "certificate-authority"}),
    "users": ("user", {"client-certificate-data": "client-certificate", "client-key-data": "client-key"}),
}


@contextmanager
def _in_memory_files(conf: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """``conf`` with its embedded certificates and keys (``*-data``) moved to anonymous in-memory files
    (memfd, Linux), named by ``/proc/self/fd/<n>`` paths and closed when the block ends.

    lightkube would write each of them to a temporary file on disk, and Python's ``ssl`` loads a
    client key only from a path; the clients read these files once, while they are built. Where
    memfd does not exist, ``conf`` is used as it is (and lightkube's temporary files, mode 0600,
    deleted once read).
    """
    if not hasattr(os, "memfd_create") or not Path("/proc/self/fd").is_dir():
        yield conf
        return
    fds: list[int] = []
    try:
        try:
            out = dict(conf)
            for section, (key, fields) in _IN_MEMORY.items():
                out[section] = [_entry_in_memory(entry, key, fields, fds) for entry in out.get(section) or []]
        except (binascii.Error, ValueError):
            raise KubeError("cannot use the kubeconfig: a certificate or key is not valid base64") from None
        yield out
    finally:
        for fd in fds:
            os.close(fd)


def _entry_in_memory(entry: Any, key: str, fields: dict[str, str], fds: list[int]) -> Any:
    body = entry.get(key) if isinstance(entry, dict) else None
    if not isinstance(body, dict):
        return entry
    body = dict(body)
    for data_field, file_field in fields.items():
        if isinstance(body.get(data_field), str):
            body[file_field] = _memfd(base64.b64decode(body.pop(data_field), validate=True), fds)
    return {**entry, key: body}


def _memfd(content: bytes, fds: list[int]) -> str:
    fd = os.memfd_create("dockyard-kubeconfig", os.MFD_CLOEXEC)
    fds.append(fd)
    view = memoryview(content)
    while view:
        view = view[os.write(fd, view) :]
    return f"/proc/self/fd/{fd}"


def _load(manifest: dict[str, Any]) -> Any:
    try:
        return codecs.from_dict(manifest)
    except (LoadResourceError, ValueError) as e:
        raise KubeError(f"unknown resource {manifest.get('apiVersion')}/{manifest.get('kind')}: {e}") from e


def _dump(obj: Any) -> dict[str, Any]:
    out: dict[str, Any] = obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)
    return out


def define_kind(api_version: str, kind: str, plural: str, *, namespaced: bool) -> None:
    """Teach the clients a custom resource's kind (a CRD's), so :meth:`KubeCluster.apply` and the
    other methods accept its manifests; defining it again is harmless."""
    group, _, version = api_version.rpartition("/")
    try:
        codecs.resource_registry.load(api_version, kind)
        return
    except LoadResourceError:
        pass
    make = create_namespaced_resource if namespaced else create_global_resource
    make(group, version, kind, plural)


def _resource(api_version: str, kind: str) -> Any:
    try:
        res = codecs.resource_registry.load(api_version, kind)
    except LoadResourceError as e:
        raise KubeError(f"unknown resource {api_version}/{kind}") from e
    if res is None:
        raise KubeError(f"unknown resource {api_version}/{kind}")
    return res


def _namespaced(res: type[Resource]) -> bool:
    return issubclass(res, NamespacedResource)
