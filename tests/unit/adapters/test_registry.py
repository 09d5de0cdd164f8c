"""The registry adapter against a mock transport: digests and sizes, the bearer-token flow (Harbor),
and its own errors for 404, 5xx and unreachable registries."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from dockyard.adapters.registry import (
    Registry,
    RegistryError,
    RegistryNotFound,
    RegistryUnavailable,
    split_reference,
)

DIGEST = "sha256:" + "a" * 64
MANIFEST = {"config": {"size": 100}, "layers": [{"size": 1000}, {"size": 24}]}


def _registry(handler: httpx.MockTransport, **kw: str) -> Registry:
    return Registry("reg.example:5000", transport=handler, **kw)


async def test_tags_manifest_size_and_delete() -> None:
    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        if request.url.path == "/v2/shop/web/tags/list":
            return httpx.Response(200, json={"name": "shop/web", "tags": ["b", "a"]})
        if request.url.path == "/v2/shop/web/manifests/a":
            assert "application/vnd.oci.image.manifest.v1+json" in request.headers["Accept"]
            body = json.dumps(MANIFEST).encode()
            return httpx.Response(200, content=body, headers={"Docker-Content-Digest": DIGEST})
        if request.url.path == f"/v2/shop/web/manifests/{DIGEST}":
            return httpx.Response(202 if request.method == "DELETE" else 200)
        return httpx.Response(404, json={"errors": [{"code": "NAME_UNKNOWN"}]})

    async with _registry(httpx.MockTransport(handle)) as registry:
        assert await registry.tags("shop/web") == ["a", "b"]
        assert await registry.tags("shop/none") == []
        manifest = await registry.manifest("shop/web", "a")
        assert manifest.digest == DIGEST
        assert manifest.size == len(json.dumps(MANIFEST)) + 1124
        assert await registry.exists("shop/web", DIGEST)
        assert not await registry.exists("shop/web", "sha256:" + "b" * 64)
        await registry.delete("shop/web", DIGEST)
        with pytest.raises(RegistryNotFound):
            await registry.manifest("shop/web", "gone")
    assert f"DELETE /v2/shop/web/manifests/{DIGEST}" in seen


async def test_a_bearer_challenge_is_answered_with_a_token_from_its_realm() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.host == "auth.example":
            basic = base64.b64encode(b"robot:s3cret").decode()
            assert request.headers["Authorization"] == f"Basic {basic}"
            assert request.url.params["scope"] == "repository:shop/web:pull"
            return httpx.Response(200, json={"token": "tok"})
        if request.headers.get("Authorization") == "Bearer tok":
            return httpx.Response(200, json={"tags": ["1"]})
        challenge = 'Bearer realm="https://auth.example/token",service="reg",scope="repository:shop/web:pull"'
        return httpx.Response(401, headers={"WWW-Authenticate": challenge})

    async with _registry(httpx.MockTransport(handle), username="robot", password="s3cret") as registry:
        assert await registry.tags("shop/web") == ["1"]


@pytest.mark.parametrize(
    ("answer", "error"),
    [(httpx.Response(503), RegistryUnavailable), (httpx.Response(403), RegistryError), (None, RegistryUnavailable)],
)
async def test_errors_are_the_adapters_own(answer: httpx.Response | None, error: type[Exception]) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if answer is None:
            raise httpx.ConnectError("refused", request=request)
        return answer

    async with _registry(httpx.MockTransport(handle)) as registry:
        with pytest.raises(error):
            await registry.ping()


@pytest.mark.parametrize(
    ("image", "parts"),
    [
        ("127.0.0.1:5000/shop/web@" + DIGEST, ("127.0.0.1:5000", "shop/web", DIGEST)),
        ("reg.example/shop/web:git-abc", ("reg.example", "shop/web", "git-abc")),
        ("reg.example:5000/web", ("reg.example:5000", "web", "")),
    ],
)
def test_split_reference(image: str, parts: tuple[str, str, str]) -> None:
    assert split_reference(image) == parts
