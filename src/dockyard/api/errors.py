"""The one place where errors become HTTP answers: ``{code, message, details}``."""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from dockyard.api.console import Console
from dockyard.domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Hidden,
    InUse,
    InvalidInput,
    NotFound,
    NotGranted,
    Throttled,
    Unauthenticated,
    Unavailable,
)

log = logging.getLogger(__name__)
_STATUS: dict[type[DomainError], int] = {
    InvalidInput: 422,
    NotFound: 404,
    Conflict: 409,
    Unauthenticated: 401,
    Forbidden: 403,
    Throttled: 429,
    Unavailable: 503,
}


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "details": details or {}}


MAX_BODY = 16 * 1024 * 1024  # config files hold 1 MiB; larger ones get a 422 naming the file up to here


class ErrorOut(BaseModel):
    code: str
    message: str
    details: dict[str, Any] = {}


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": description}
    for status, description in (
        (401, "no valid API token"),
        (403, "the caller's role does not allow this"),
        (404, "it does not exist, or the caller may not see it"),
        (409, "it conflicts with the current state (e.g. another operation on the group)"),
        (413, "the request body is too large"),
        (422, "a field is invalid; details.field names it"),
        (429, "too many failed attempts; Retry-After says when to try again"),
        (503, "the database (or a registry it needs) is unavailable"),
    )
}


@dataclass(frozen=True)
class Failure:
    """Why a request failed, left on ``request.state.failure`` for the audit trail (``api.audit``);
    ``denied`` when authentication or authorization refused it (401, 403, a hidden 404)."""

    reason: str
    denied: bool = False


def failure_of(scope: MutableMapping[str, Any]) -> Failure | None:
    found = scope.get("state", {}).get("failure")
    return found if isinstance(found, Failure) else None


def _with_request_id(request: Request, response: JSONResponse) -> JSONResponse:
    """The request id (``api.audit``) on a 500, which is answered outside the audit middleware."""
    rid = getattr(request.state, "request_id", None)
    if rid:
        response.headers["X-Request-ID"] = rid
    return response


class BodyLimit:
    """Refuse large bodies before anything reads them (authentication comes after the body), and
    bodies of unknown length. Plain ASGI: Starlette's ``BaseHTTPMiddleware`` would add a task group
    and a streamed response to every request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refused = _refusal(Headers(scope=scope).get("content-length"), scope["method"])
            if refused is not None:
                await refused(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _refusal(length: str | None, method: str) -> JSONResponse | None:
    if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
        return JSONResponse(error_body("too_large", f"request bodies may hold at most {MAX_BODY} bytes"), 413)
    if length is None and method in ("POST", "PUT", "PATCH"):
        return JSONResponse(error_body("length_required", "send a Content-Length header"), 411)
    return None


def install(app: FastAPI) -> None:
    app.add_middleware(BodyLimit)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        body = error_body("internal", "internal error; the server log has the details")
        return _with_request_id(request, JSONResponse(body, 500))

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> JSONResponse:
        request.state.failure = Failure(str(exc), denied=isinstance(exc, (Hidden, Forbidden, Unauthenticated)))
        details = (
            {"field": exc.field, **getattr(exc, "details", {})} if isinstance(exc, (InvalidInput, NotGranted)) else {}
        )
        if isinstance(exc, InUse):
            details = dict(exc.details)
        status = next((code for kind, code in _STATUS.items() if isinstance(exc, kind)), 400)
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, Throttled) else None
        return JSONResponse(error_body(exc.code, str(exc), details), status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request", "type": ""}
        if first.get("type") == "json_invalid":
            request.state.failure = Failure("the body is not valid JSON")
            return JSONResponse(error_body("invalid_input", "the body is not valid JSON", {"field": ""}), 422)
        field = ".".join(str(p) for p in first["loc"] if p not in ("body", "query", "path"))
        message = f"{field or 'request'}: {first['msg']}"
        request.state.failure = Failure(message)
        return JSONResponse(error_body("invalid_input", message, {"field": field}), status_code=422)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        console: Console | None = getattr(request.app.state, "console", None)
        if exc.status_code == 404 and console is not None and (page := console.page(request)) is not None:
            return page
        request.state.failure = Failure(str(exc.detail), denied=exc.status_code in (401, 403))
        code = {
            400: "bad_request",
            404: "not_found",
            405: "method_not_allowed",
            401: "unauthenticated",
            403: "forbidden",
        }
        return JSONResponse(
            error_body(code.get(exc.status_code, "error"), str(exc.detail)), status_code=exc.status_code
        )
