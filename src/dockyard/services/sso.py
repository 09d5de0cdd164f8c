"""Single sign-on: who a bearer token from the identity provider or a console session cookie is.

Contracts:
- A person signed in through the provider is the principal ``sso:<name>`` whose rights come from
  their groups alone, through the configured role map (:mod:`dockyard.domain.sso`), read again on
  every request: a changed map takes effect at once.
- Bearer JWTs are checked by the provider port (signature by its current keys, issuer, audience,
  expiry); :func:`bearer_principal` answers None for anything else.
- A console session is an opaque ``dys_`` secret (the cookie), stored as SHA-256 with the user and
  groups; :func:`end_session` ends it at once: the next request with the same cookie is refused.
- Every failure is the same :class:`Unauthenticated`, whatever the reason.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from collections.abc import Mapping

from dockyard.domain.access import Principal
from dockyard.domain.errors import InvalidInput, NotFound, Unauthenticated
from dockyard.domain.sso import groups_of, principal_for, user_name
from dockyard.services.platform import Platform, SsoConfig

SESSION_PREFIX = "dys_"
_NO_SESSION = "the session has ended or is not valid; sign in again"

log = logging.getLogger(__name__)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def config_of(platform: Platform) -> SsoConfig:
    """The single sign-on settings; :class:`NotFound` when SSO is off."""
    if platform.sso is None:
        raise NotFound("single sign-on is not configured on this server (DOCKYARD_OIDC_ISSUER)")
    return platform.sso


def principal_of_claims(config: SsoConfig, claims: Mapping[str, object]) -> Principal | None:
    """The principal a set of claims stands for (None if they name nobody)."""
    name = user_name(claims, config.username_claim)
    if name is None:
        return None
    try:
        groups = groups_of(claims, config.groups_claim)
    except InvalidInput:
        return None
    return principal_for(name, groups, config.role_map)


async def bearer_principal(platform: Platform, token: str) -> Principal | None:
    """The caller of a bearer JWT signed by the identity provider; None if SSO is off or the token is
    not one of the provider's for Dockyard."""
    if platform.sso is None or platform.idp is None:
        return None
    claims = await platform.idp.claims(token)
    return principal_of_claims(platform.sso, claims) if claims is not None else None


async def start_session(platform: Platform, claims: Mapping[str, object]) -> tuple[str, Principal]:
    """A new console session for the person the provider's ``claims`` name: its secret (for the
    cookie) and the principal. :class:`Unauthenticated` if the claims name nobody."""
    config = config_of(platform)
    name = user_name(claims, config.username_claim)
    if name is None:
        raise Unauthenticated("the identity provider named nobody")
    try:
        groups = groups_of(claims, config.groups_claim)
    except InvalidInput as e:
        raise Unauthenticated(str(e)) from None
    secret = SESSION_PREFIX + secrets.token_urlsafe(32)
    now = dt.datetime.now(dt.UTC)
    async with platform.db.unit_of_work() as uow:
        await uow.sso_sessions.add(
            token_hash=_hash(secret),
            user=name,
            groups=sorted(groups),
            now=now,
            expires_at=now + dt.timedelta(seconds=config.session_seconds),
        )
    principal = principal_for(name, groups, config.role_map)
    log.info("%s signed in through the identity provider (%d groups)", principal.name, len(groups))
    return secret, principal


async def session_principal(platform: Platform, secret: str) -> Principal:
    """The caller of a live console session; :class:`Unauthenticated` otherwise."""
    if platform.sso is None or not secret.startswith(SESSION_PREFIX) or len(secret) > 100:
        raise Unauthenticated(_NO_SESSION)
    async with platform.db.unit_of_work() as uow:
        found = await uow.sso_sessions.live(_hash(secret), dt.datetime.now(dt.UTC))
    if found is None:
        raise Unauthenticated(_NO_SESSION)
    user, groups = found
    return principal_for(user, groups, platform.sso.role_map)


async def end_session(platform: Platform, secret: str) -> None:
    """End a console session at once (nothing if it is not one)."""
    if not secret.startswith(SESSION_PREFIX) or len(secret) > 100:
        return
    async with platform.db.unit_of_work() as uow:
        await uow.sso_sessions.end(_hash(secret), dt.datetime.now(dt.UTC))
