"""One OpenID Connect provider, as seen by a resource server: its discovery document, its JWKS, and
the validation of the JWTs it signs (joserfc).

Contracts of :meth:`Provider.verify`:
- the signature is checked with the provider's key of the token's ``kid``, with an asymmetric
  algorithm the provider announces (never ``none``, never HMAC: a public key is not a shared secret);
- ``iss`` must be the configured issuer, ``aud`` must hold one of the configured audiences (Dockyard's
  own client, and the command line's public client when there is one), ``exp`` must be
  in the future and ``nbf``/``iat`` not in the future, each with ``leeway`` seconds for clocks;
- a ``kid`` not in the cached JWKS (or, for a token without ``kid``, a signature none of the cached
  keys checks) makes it fetch the JWKS again (a rotated key), at most once per
  ``min_refetch`` seconds: a call arriving sooner *waits* for the next allowed fetch instead of
  failing, and concurrent calls share one fetch. So a rotation fails no call, and a flood of forged
  key ids costs the provider one request per ``min_refetch``. The JWKS is also refetched when older
  than ``max_age`` (a key the provider withdrew stops being trusted).
- a token that checked out is remembered until its ``exp`` (with the leeway): the same token again
  costs a dictionary lookup, not a signature check; every JWKS fetch forgets them all.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import time
from collections.abc import Iterable, Mapping
from typing import Any

import httpx
from joserfc import jwt
from joserfc.errors import BadSignatureError, JoseError
from joserfc.jwk import Key, KeySet

from dockyard.adapters.oidc.errors import OidcError, TokenRejected

log = logging.getLogger(__name__)
VERIFIED_KEPT = 10_000  # tokens remembered as checked (then the memory starts afresh)
ASYMMETRIC = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"})


class Provider:
    def __init__(
        self,
        issuer: str,
        *,
        audience: str | Iterable[str],
        leeway: int = 30,
        min_refetch: float = 2.0,
        max_age: float = 600.0,
        timeout: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.audiences = (audience,) if isinstance(audience, str) else tuple(dict.fromkeys(audience))
        if not self.audiences:
            raise ValueError("a provider needs at least one audience")
        self._leeway = leeway
        self._min_refetch = min_refetch
        self._max_age = max_age
        self._http = httpx.AsyncClient(timeout=timeout, transport=transport, follow_redirects=False)
        self._metadata: dict[str, Any] | None = None
        self._keys: dict[str, Key] = {}  # by kid (joserfc gives a kid-less key its thumbprint)
        self._algorithms: list[str] = ["RS256"]
        self._fetched_at = float("-inf")  # monotonic time of the last JWKS fetch
        self._lock = asyncio.Lock()
        # Tokens whose signature and claims checked out, until their exp: a client sends the same
        # token many times; only the expiry is checked again.
        self._verified: dict[str, tuple[dict[str, Any], float]] = {}
        self.fetches = 0  # JWKS fetches so far (for tests and the benchmark)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def metadata(self) -> dict[str, Any]:
        """The discovery document (fetched once); its ``issuer`` must be the configured one."""
        if self._metadata is None:
            url = f"{self.issuer}/.well-known/openid-configuration"
            document = await self._get_json(url)
            if str(document.get("issuer", "")).rstrip("/") != self.issuer:
                raise OidcError(f"the discovery document at {url} names another issuer")
            if not isinstance(document.get("jwks_uri"), str):
                raise OidcError(f"the discovery document at {url} has no jwks_uri")
            announced = document.get("id_token_signing_alg_values_supported") or ["RS256"]
            self._algorithms = sorted(ASYMMETRIC.intersection(announced)) or ["RS256"]
            self._metadata = document
        return self._metadata

    async def verify(self, token: str) -> dict[str, Any]:
        """The claims of ``token`` if it is valid here (see the module's contract), else
        :class:`TokenRejected`; :class:`OidcError` if the provider cannot be reached when its keys are
        needed."""
        cached = self._verified.get(token)
        if cached is not None and time.time() < cached[1] + self._leeway:
            return cached[0]
        kid = _kid(token)
        seen = self._fetched_at
        if not self._keys or (kid is not None and kid not in self._keys):
            await self._refetch(seen)
        elif time.monotonic() - seen > self._max_age:
            # The provider away: the keys it last published stay good until it is back.
            with contextlib.suppress(OidcError):
                await self._refetch(seen)
        claims = self._signed_claims(token, kid)
        if claims is None and kid is None and self._fetched_at == seen:
            # A token without a key id names no key: a signature no known key checks may be a new key's.
            await self._refetch(seen)
            claims = self._signed_claims(token, kid)
        if claims is None:
            raise TokenRejected("no key of the provider checks this token's signature")
        try:
            jwt.JWTClaimsRegistry(
                leeway=self._leeway,
                iss={"essential": True, "value": self.issuer},
                aud={"essential": True, "values": list(self.audiences)},
                exp={"essential": True},
                sub={"essential": True},
            ).validate(claims)
        except JoseError as e:
            raise TokenRejected(f"{type(e).__name__}: {e.description or e.error}") from None
        if len(self._verified) >= VERIFIED_KEPT:
            self._verified.clear()
        self._verified[token] = (claims, float(claims["exp"]))
        return claims

    def _signed_claims(self, token: str, kid: str | None) -> dict[str, Any] | None:
        """The claims if a key of ``kid`` (any key, without one) checks the signature; None if none does."""
        if kid is None:
            candidates = list(self._keys.values())
        else:
            known = self._keys.get(kid)
            candidates = [known] if known is not None else []
        for key in candidates:
            try:
                return jwt.decode(token, key, algorithms=self._algorithms).claims
            except BadSignatureError:
                continue
            except JoseError as e:
                raise TokenRejected(f"{type(e).__name__}: {e.description or e.error}") from None
            except (ValueError, TypeError) as e:
                raise TokenRejected(f"malformed token: {type(e).__name__}") from None
        return None

    async def claims(self, token: str) -> dict[str, Any] | None:
        """:meth:`verify`, answering None instead of raising (the port's contract)."""
        try:
            return await self.verify(token)
        except TokenRejected:
            return None
        except OidcError as e:
            log.warning("a bearer token from the identity provider could not be checked: %s", e)
            return None

    async def _refetch(self, seen: float) -> None:
        """Fetch the JWKS again unless another call did since ``seen`` (then use theirs); never sooner
        than ``min_refetch`` after the last fetch (waits for it)."""
        async with self._lock:
            if self._fetched_at != seen:
                return
            wait = self._fetched_at + self._min_refetch - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            metadata = await self.metadata()
            document = await self._get_json(metadata["jwks_uri"])
            try:
                keys = KeySet.import_key_set(document)  # type: ignore[arg-type]
            except (JoseError, KeyError, TypeError, ValueError) as e:
                raise OidcError(f"the provider's JWKS cannot be read: {type(e).__name__}") from e
            self._keys = {str(key.kid): key for key in keys if key.get("use") in (None, "sig")}
            self._fetched_at = time.monotonic()
            self.fetches += 1
            self._verified.clear()  # a withdrawn key's tokens must be checked again

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            answer = await self._http.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as e:
            raise OidcError(f"the identity provider cannot be reached ({url}): {type(e).__name__}") from e
        if answer.status_code != 200:
            raise OidcError(f"the identity provider answered {answer.status_code} for {url}")
        try:
            document = answer.json()
        except ValueError as e:
            raise OidcError(f"the identity provider's answer for {url} is not JSON") from e
        if not isinstance(document, dict):
            raise OidcError(f"the identity provider's answer for {url} is not a JSON object")
        return document


def _kid(token: str) -> str | None:
    """The ``kid`` of a compact JWS's header (None without one); :class:`TokenRejected` if the token
    is not a compact JWS at all."""
    head, dot, _ = token.partition(".")
    if not dot or len(head) > 2048:
        raise TokenRejected("not a JWT")
    try:
        header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    except (ValueError, TypeError):
        raise TokenRejected("not a JWT") from None
    if not isinstance(header, Mapping):
        raise TokenRejected("not a JWT")
    kid = header.get("kid")
    return kid if isinstance(kid, str) else None
