"""An OpenID Connect identity provider: its discovery document, its signing keys (JWKS, cached and
refetched on an unknown key id) and the validation of the JWTs it signs.

Errors::

    OidcError        (domain IdentityProviderFailure) discovery or JWKS cannot be had
    TokenRejected    a token that is not valid here
"""

from __future__ import annotations

from dockyard.adapters.oidc.errors import OidcError, TokenRejected
from dockyard.adapters.oidc.provider import Provider

__all__ = ["OidcError", "Provider", "TokenRejected"]
