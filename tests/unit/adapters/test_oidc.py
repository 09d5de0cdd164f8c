"""Bearer JWT validation against a provider's JWKS, with real RSA keys (joserfc) and the provider's
discovery and JWKS answered by an in-memory transport: signature, iss, aud, exp, nbf, algorithms, and
key rotation (a new kid is fetched, at most once per interval, and fails no call)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

from dockyard.adapters.oidc import OidcError, Provider, TokenRejected

ISSUER = "https://idp.example"


class FakeIdp:
    """What the provider publishes: a discovery document and a JWKS (the keys in ``published``)."""

    def __init__(self) -> None:
        self.published: list[RSAKey] = [RSAKey.generate_key(2048, {"kid": "k1"})]
        self.jwks_fetches = 0
        self.up = True

    def handler(self, request: httpx.Request) -> httpx.Response:
        if not self.up:
            return httpx.Response(503)
        if request.url.path == "/.well-known/openid-configuration":
            return httpx.Response(
                200,
                json={
                    "issuer": ISSUER,
                    "jwks_uri": f"{ISSUER}/jwks",
                    "id_token_signing_alg_values_supported": ["RS256", "HS256", "none"],
                },
            )
        if request.url.path == "/jwks":
            self.jwks_fetches += 1
            return httpx.Response(200, json={"keys": [k.as_dict(private=False) for k in self.published]})
        return httpx.Response(404)

    def provider(self, *, audience: Any = "dockyard", **kwargs: Any) -> Provider:
        return Provider(ISSUER, audience=audience, transport=httpx.MockTransport(self.handler), **kwargs)


_OWN = "the key's own"


def sign(key: Any, *, alg: str = "RS256", kid: str | None = _OWN, **overrides: Any) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": "dockyard", "sub": "olga", "iat": now, "exp": now + 300, **overrides}
    header: dict[str, Any] = {"alg": alg}
    if kid == _OWN:
        kid = key.kid
    if kid is not None:
        header["kid"] = kid
    return jwt.encode(header, {k: v for k, v in claims.items() if v is not None}, key)


@pytest.fixture
def idp() -> FakeIdp:
    return FakeIdp()


async def test_a_good_token(idp: FakeIdp) -> None:
    provider = idp.provider()
    claims = await provider.verify(sign(idp.published[0], groups=["a"]))
    assert claims["sub"] == "olga"
    assert claims["groups"] == ["a"]
    await provider.aclose()


@pytest.mark.parametrize(
    ("overrides", "why"),
    [
        ({"iss": "https://evil.example"}, "iss"),
        ({"aud": "another-client"}, "aud"),
        ({"exp": int(time.time()) - 120}, "expired"),
        ({"nbf": int(time.time()) + 600}, "not yet valid"),
        ({"exp": None}, "no exp"),
        ({"sub": None}, "no sub"),
    ],
)
async def test_wrong_claims_are_rejected(idp: FakeIdp, overrides: dict[str, Any], why: str) -> None:
    provider = idp.provider()
    with pytest.raises(TokenRejected):
        await provider.verify(sign(idp.published[0], **overrides))
    assert await provider.claims(sign(idp.published[0], **overrides)) is None
    await provider.aclose()


async def test_the_command_lines_client_is_a_second_audience(idp: FakeIdp) -> None:
    provider = idp.provider(audience=["dockyard", "dockyard-cli"])
    for audience in ("dockyard", "dockyard-cli", ["dockyard-cli", "other"]):
        assert (await provider.verify(sign(idp.published[0], aud=audience)))["sub"] == "olga"
    for audience in ("other", ["other", "more"]):
        assert await provider.claims(sign(idp.published[0], aud=audience)) is None
    await provider.aclose()


async def test_within_leeway_is_accepted(idp: FakeIdp) -> None:
    provider = idp.provider(leeway=30)
    assert await provider.verify(sign(idp.published[0], exp=int(time.time()) - 10))
    await provider.aclose()


async def test_signatures_other_than_the_providers_are_rejected(idp: FakeIdp) -> None:
    provider = idp.provider(min_refetch=0.0)
    stranger = RSAKey.generate_key(2048, {"kid": "k1"})  # the provider's kid, another key
    with pytest.raises(TokenRejected):
        await provider.verify(sign(stranger))
    secret = OctKey.import_key(b"x" * 32, {"kid": "k1"})  # HMAC with whatever a forger chooses: never accepted
    with pytest.raises(TokenRejected):
        await provider.verify(sign(secret, alg="HS256"))
    with pytest.raises(TokenRejected):
        await provider.verify("not.a.jwt")
    with pytest.raises(TokenRejected):
        await provider.verify("garbage")
    await provider.aclose()


async def test_a_rotated_key_fails_no_call_and_is_fetched_once(idp: FakeIdp) -> None:
    provider = idp.provider(min_refetch=0.2)
    old = idp.published[0]
    assert await provider.verify(sign(old))
    new = RSAKey.generate_key(2048, {"kid": "k2"})
    idp.published = [new, old]  # the provider publishes the new key, then signs with it
    tokens = [sign(new, jti=str(i)) for i in range(20)]
    results = await asyncio.gather(*(provider.verify(t) for t in tokens))
    assert len(results) == 20
    assert idp.jwks_fetches == 2  # one refetch, shared by the 20 concurrent calls
    assert await provider.verify(sign(old, jti="still"))  # the old key's tokens, while published
    idp.published = [new]
    await provider.aclose()


async def test_unknown_kids_are_fetched_at_most_once_per_interval(idp: FakeIdp) -> None:
    provider = idp.provider(min_refetch=0.3)
    assert await provider.verify(sign(idp.published[0]))
    forged = RSAKey.generate_key(2048, {"kid": "nope"})
    started = time.monotonic()
    for i in range(3):
        with pytest.raises(TokenRejected):
            await provider.verify(sign(forged, kid=f"nope-{i}"))
    assert idp.jwks_fetches == 4  # 1 + 3, each waiting for the interval
    assert time.monotonic() - started >= 0.6
    await provider.aclose()


async def test_a_token_without_kid_after_rotation(idp: FakeIdp) -> None:
    provider = idp.provider(min_refetch=0.0)
    assert await provider.verify(sign(idp.published[0], kid=None))
    idp.published = [RSAKey.generate_key(2048, {"kid": "k2"})]
    assert await provider.verify(sign(idp.published[0], kid=None))
    assert idp.jwks_fetches == 2
    await provider.aclose()


async def test_provider_away(idp: FakeIdp) -> None:
    idp.up = False
    provider = idp.provider()
    with pytest.raises(OidcError):
        await provider.verify(sign(idp.published[0]))
    assert await provider.claims(sign(idp.published[0])) is None
    await provider.aclose()


async def test_a_checked_token_is_remembered_until_it_expires(idp: FakeIdp) -> None:
    provider = idp.provider()
    token = sign(idp.published[0])
    first = await provider.verify(token)
    idp.up = False  # the second check needs neither the keys nor the provider
    assert await provider.verify(token) == first
    await provider.aclose()
