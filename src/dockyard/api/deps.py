"""Typed dependencies of the routes: the platform and the authenticated caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from dockyard.domain.access import Principal
from dockyard.domain.errors import Unauthenticated
from dockyard.services.identity import authenticate
from dockyard.services.platform import Platform

SESSION_COOKIE = "dockyard_session"
CONSOLE_HEADER = "X-Dockyard-Console"  # cookie-authenticated changes must carry it: forms of other sites cannot
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
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
    """The caller of a request, from its bearer token, else the console's single sign-on session
    cookie; 401 without a valid one. A change (not GET/HEAD/OPTIONS) authenticated by the cookie
    must carry the ``X-Dockyard-Console`` header (cross-site request forgery). Also kept on
    ``request.state.principal`` for the audit trail."""
    token = credentials.credentials if credentials else None
    if token is None and (cookie := request.cookies.get(SESSION_COOKIE)):
        if request.method not in _SAFE and not request.headers.get(CONSOLE_HEADER):
            raise Unauthenticated(f"a change made with the session cookie needs the {CONSOLE_HEADER} header")
        token = cookie
    principal = await authenticate(platform, token)
    request.state.principal = principal
    return principal


Caller = Annotated[Principal, Depends(get_caller)]

# A row's id in a URL: the databases' integer columns are 32-bit on PostgreSQL and SQLite refuses
# larger Python ints outright (a 500 schemathesis found), so anything out of range is 422 here.
RowId = Annotated[int, Path(ge=1, le=2**31 - 1, description="an id as the API gave it")]
