"""Recording the audit trail: a pure ASGI middleware around the whole application.

For every HTTP request it

- takes the client's ``X-Request-ID`` when it is sane (1–64 of ``A-Za-z0-9._-``), else makes one,
  keeps it on ``request.state.request_id`` and returns it on every response;
- copies the body of a POST/PUT/PATCH/DELETE as the application reads it (up to
  :data:`api.errors.MAX_BODY`, which is all a request may hold), without reading it itself;
- once the response is determined (its status is about to be sent, or the application raised),
  records an entry when :func:`domain.audit.should_record` says so: mutations under ``/api/``, and
  every request answered 401 or 403 or refused by authorization as a hidden 404.

The error handlers (``api.errors``) leave why a request failed on ``request.state.failure``. The
actor is the principal ``api.deps.get_caller`` put on ``request.state``; the source IP is the peer's
address (a proxy's ``X-Forwarded-For`` is not trusted: behind a proxy, entries show the proxy).

A failed write is logged (the request id, method, action and status; never the body) and the response
goes out unchanged: the audit trail must not turn a success into an error (docs/decisions.md).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from http import HTTPStatus
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dockyard.api.errors import MAX_BODY, Failure, failure_of
from dockyard.domain import audit
from dockyard.domain.errors import DomainError
from dockyard.services import audit as svc

log = logging.getLogger(__name__)

MAX_CAPTURE = MAX_BODY


class AuditMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault("state", {})
        rid = audit.valid_request_id(Headers(scope=scope).get("x-request-id")) or uuid.uuid4().hex
        state["request_id"] = rid
        started = dt.datetime.now(dt.UTC)
        body = _Body(capture=scope["method"] in audit.MUTATING)
        responded = False

        async def receive_and_copy() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                body.add(message.get("body", b""))
            return message

        async def send_with_id(message: Message) -> None:
            nonlocal responded
            if message["type"] == "http.response.start":
                responded = True
                MutableHeaders(scope=message)["X-Request-ID"] = rid
                await self._record(scope, state, body, message["status"], started)
            await send(message)

        try:
            await self.app(scope, receive_and_copy, send_with_id)
        except Exception as exc:
            if not responded:
                state.setdefault("failure", Failure(f"internal error ({type(exc).__name__})"))
                await self._record(scope, state, body, 500, started)
            raise

    async def _record(self, scope: Scope, state: dict[str, Any], body: _Body, status: int, at: dt.datetime) -> None:
        failure = failure_of(scope)
        denied = failure is not None and failure.denied
        if not audit.should_record(scope["method"], scope["path"], status, denied=denied):
            return
        route = scope.get("route")
        action = scope["path"] if route is None or status == 405 else str(getattr(route, "name", scope["path"]))
        principal = state.get("principal")
        client = scope.get("client")
        record = audit.new_record(
            at=at,
            actor=str(getattr(principal, "name", "")),
            source_ip=str(client[0]) if client else "",
            request_id=state["request_id"],
            method=scope["method"],
            action=action,
            target={k: str(v) for k, v in (scope.get("path_params") or {}).items()},
            outcome=audit.outcome_of(status, denied=denied),
            status=status,
            reason=failure.reason if failure else (HTTPStatus(status).phrase if status >= 400 else ""),
            changes=body.summary(),
        )
        try:
            await svc.record(scope["app"].state.platform, record)
        except Exception as e:  # whatever it is, the response goes out; the message never holds the body
            log.error(
                "could not record the audit entry of request %s (%s %s, status %d): %s",
                record.request_id,
                record.method,
                record.action,
                status,
                e if isinstance(e, DomainError) else type(e).__name__,
            )


class _Body:
    """A copy of a request body as it is read, up to :data:`MAX_CAPTURE` bytes."""

    def __init__(self, *, capture: bool) -> None:
        self._capture = capture
        self._chunks: list[bytes] = []
        self._size = 0

    def add(self, chunk: bytes) -> None:
        if self._capture and chunk:
            self._size += len(chunk)
            if self._size <= MAX_CAPTURE:
                self._chunks.append(chunk)

    def summary(self) -> dict[str, Any]:
        """:func:`domain.audit.summarize_changes` of the body; ``{}`` when there was none."""
        if self._size == 0:
            return {}
        if self._size > MAX_CAPTURE:
            return audit.summarize_changes(None)
        try:
            data = json.loads(b"".join(self._chunks))
        except (ValueError, RecursionError):
            data = None
        return audit.summarize_changes(data)
