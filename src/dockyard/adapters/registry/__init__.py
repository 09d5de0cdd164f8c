"""An OCI distribution registry through its HTTP API (``/v2/``): tags, manifest digests and sizes,
delete by digest. Any registry by URL (the sandbox's, Harbor…), with basic credentials or the bearer
token flow a ``WWW-Authenticate: Bearer`` challenge asks for.

Errors (each also the domain's failure of the same name, ``RegistryError`` its ``RegistryFailure``)::

    RegistryError            an answer Dockyard cannot use (the message has the status)
    ├── RegistryUnavailable  the registry cannot be reached, or answers 5xx
    └── RegistryNotFound     the repository, tag or manifest does not exist
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import httpx

from dockyard.domain import failures
from dockyard.domain.images import Manifest, split_reference

__all__ = ["Manifest", "Registry", "RegistryError", "RegistryNotFound", "RegistryUnavailable", "split_reference"]

MANIFESTS = ", ".join(
    (
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    )
)
_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')


class RegistryError(failures.RegistryFailure):
    pass


class RegistryUnavailable(RegistryError, failures.RegistryUnavailable):
    pass


class RegistryNotFound(RegistryError, failures.RegistryNotFound):
    pass


class Registry:
    """One registry host; ``plain_http`` for a loopback registry without TLS (the sandbox's)."""

    def __init__(
        self,
        host: str,
        *,
        username: str = "",
        password: str = "",
        plain_http: bool = False,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        scheme = "http" if plain_http else "https"
        self._client = httpx.AsyncClient(base_url=f"{scheme}://{host}", timeout=timeout, transport=transport)
        self._basic = (username, password) if username else None
        self._token = ""

    async def __aenter__(self) -> Registry:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._client.aclose()

    async def _request(self, method: str, path: str, *, accept: str = "") -> httpx.Response:
        headers = {"Accept": accept} if accept else {}
        try:
            response = await self._send(method, path, headers)
            if response.status_code == 401 and await self._authenticate(response):
                response = await self._send(method, path, headers)
        except httpx.HTTPError as e:
            raise RegistryUnavailable(f"registry {self._client.base_url} cannot be reached: {type(e).__name__}") from e
        if response.status_code >= 500:
            raise RegistryUnavailable(f"registry {self._client.base_url} answered {response.status_code}")
        if response.status_code == 404:
            raise RegistryNotFound(f"{path} does not exist in the registry")
        if response.status_code >= 400:
            raise RegistryError(f"registry answered {response.status_code} to {method} {path}")
        return response

    async def _send(self, method: str, path: str, headers: dict[str, str]) -> httpx.Response:
        if self._token:
            headers = {**headers, "Authorization": f"Bearer {self._token}"}
            return await self._client.request(method, path, headers=headers)
        return await self._client.request(method, path, headers=headers, auth=self._basic or httpx.USE_CLIENT_DEFAULT)

    async def _authenticate(self, challenge: httpx.Response) -> bool:
        """Follow a bearer challenge (Harbor, Docker Hub): a token from its realm, with the basic
        credentials if any; False if there is nothing to try."""
        header = challenge.headers.get("WWW-Authenticate", "")
        if not header.lower().startswith("bearer ") or self._token:
            return False
        params = dict(_CHALLENGE.findall(header))
        realm = params.pop("realm", "")
        if not realm:
            return False
        answer = await self._client.get(realm, params=params, auth=self._basic or httpx.USE_CLIENT_DEFAULT)
        if answer.status_code != 200:
            return False
        body = answer.json()
        self._token = str(body.get("token") or body.get("access_token") or "")
        return bool(self._token)

    async def ping(self) -> None:
        await self._request("GET", "/v2/")

    async def tags(self, repository: str) -> list[str]:
        """The repository's tags, sorted; [] when the repository does not exist (yet)."""
        try:
            response = await self._request("GET", f"/v2/{repository}/tags/list")
        except RegistryNotFound:
            return []
        return sorted(response.json().get("tags") or [])

    async def manifest(self, repository: str, reference: str) -> Manifest:
        """The digest and size of a tag's or digest's manifest; RegistryNotFound if it is gone."""
        response = await self._request("GET", f"/v2/{repository}/manifests/{reference}", accept=MANIFESTS)
        digest = response.headers.get("Docker-Content-Digest", "")
        body = response.json()
        parts: Sequence[dict[str, object]] = [body.get("config") or {}, *(body.get("layers") or [])]
        size = len(response.content) + sum(int(p.get("size", 0) or 0) for p in parts)  # type: ignore[call-overload]
        return Manifest(digest=digest, size=size)

    async def exists(self, repository: str, digest: str) -> bool:
        try:
            await self._request("HEAD", f"/v2/{repository}/manifests/{digest}", accept=MANIFESTS)
        except RegistryNotFound:
            return False
        return True

    async def delete(self, repository: str, digest: str) -> None:
        """Delete a manifest by digest (every tag on it goes with it); the registry's own garbage
        collection frees the blobs later."""
        await self._request("DELETE", f"/v2/{repository}/manifests/{digest}")
