"""Errors of the OIDC identity-provider adapter.

OidcError (domain IdentityProviderFailure)   the discovery document or the JWKS cannot be fetched or read
TokenRejected                                 a bearer token is not one this provider signed for us
                                              (bad signature, unknown key, wrong iss/aud, expired, not yet valid)

Messages never hold the token nor the client secret.
"""

from __future__ import annotations

from dockyard.domain.failures import IdentityProviderFailure


class OidcError(IdentityProviderFailure):
    pass


class TokenRejected(Exception):
    """The token is not valid here; ``reason`` says why (for logs and tests, never for the caller)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
