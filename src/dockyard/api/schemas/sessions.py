"""Bodies of the sign-in endpoints: login, sessions and passwords. Secrets are
:class:`SecretStr`, so no repr, log line or validation error ever shows them."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field, SecretStr

from dockyard.api.schemas.common import In


class LoginIn(In):
    user: str = Field(max_length=100)
    password: SecretStr = Field(max_length=256)


class RefreshIn(In):
    refresh_token: SecretStr = Field(max_length=200)


class SessionOut(BaseModel):
    """``access_token`` goes in ``Authorization: Bearer``; ``refresh_token`` gets a new pair once
    (it is replaced at each use)."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int
    refresh_token: str
    refresh_expires_at: dt.datetime


class PasswordIn(In):
    new_password: SecretStr = Field(max_length=256)
    current_password: SecretStr | None = Field(default=None, max_length=256, description="needed for your own")
