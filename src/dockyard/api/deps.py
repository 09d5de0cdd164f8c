"""Typed dependencies of the routes: the platform and the authenticated caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from dockyard.domain.access import Principal
from dockyard.services.identity import authenticate
from dockyard.services.platform import Platform

_bearer = HTTPBearer(auto_error=False, description="a personal API token: Authorization: Bearer dy_...")


def get_platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


PlatformDep = Annotated[Platform, Depends(get_platform)]


async def get_caller(
    request: Request,
    platform: PlatformDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller of a request, from its bearer token; 401 without a valid one. Also kept on
    ``request.state.principal`` for the audit trail."""
    principal = await authenticate(platform, credentials.credentials if credentials else None)
    request.state.principal = principal
    return principal


Caller = Annotated[Principal, Depends(get_caller)]

# A row's id in a URL: the databases' integer columns are 32-bit on PostgreSQL and SQLite refuses
# larger Python ints outright (a 500 schemathesis found), so anything out of range is 422 here.
RowId = Annotated[int, Path(ge=1, le=2**31 - 1, description="an id as the API gave it")]
