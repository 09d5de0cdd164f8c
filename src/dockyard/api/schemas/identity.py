"""Bodies of the identity endpoints: users, tokens, who am I."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field, SecretStr

from dockyard.api.schemas.common import In


class UserIn(In):
    name: str
    admin: bool = False
    password: SecretStr | None = Field(default=None, description="optional; 12+ characters, not a known default")


class TokenIn(In):
    name: str
    expires_in_days: int | None = Field(default=90, ge=1, le=3650)


class UserOut(BaseModel):
    name: str
    admin: bool


class AppRoleOut(BaseModel):
    system: str
    app: str
    role: str


class MeOut(UserOut):
    roles: dict[str, str] = Field(description="the caller's role per system")
    app_roles: list[AppRoleOut] = Field(description="roles in one application only")


class TokenOut(BaseModel):
    id: str
    name: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked: bool


class NewTokenOut(TokenOut):
    token: str = Field(description="the token itself: shown this once, never again")
