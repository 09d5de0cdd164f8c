"""Errors of the domain; the API maps each to one HTTP status in one place.

DomainError
├── InvalidInput   a field's value is wrong (``field`` names it)        → 422
│   └── DoesNotFit  instances would find no node (``details``: the preview) → 422
├── NotFound       the thing asked for does not exist                 → 404
│   └── Hidden     …or the caller may not see it (an authorization denial, audited as one)
├── Conflict       the request collides with the current state        → 409
│   └── InUse      …a thing in use by groups (``details``: the groups)
├── Unauthenticated  no valid credentials came with the request         → 401
├── Forbidden      the caller may see the target but not do this      → 403
│   └── NotGranted …a production location its system holds no grant for (``field`` names it)
├── Throttled      too many attempts; try again in ``retry_after`` seconds → 429
└── Unavailable    a system the request needs is down (database, cluster) → 503
"""

from __future__ import annotations


class DomainError(Exception):
    code = "error"


class InvalidInput(DomainError):
    code = "invalid_input"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class NotFound(DomainError):
    code = "not_found"


class Hidden(NotFound):
    """Answered exactly like :class:`NotFound`; raised by authorization, so the audit records a denial."""


class Conflict(DomainError):
    code = "conflict"


class InUse(Conflict):
    """A change refused because groups use the thing (a flavor): ``details`` names them."""

    code = "in_use"

    def __init__(self, message: str, groups: list[str]) -> None:
        super().__init__(message)
        self.details = {"groups": groups}


class Unauthenticated(DomainError):
    code = "unauthenticated"


class Forbidden(DomainError):
    code = "forbidden"


class NotGranted(Forbidden):
    code = "location_not_granted"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class Throttled(DomainError):
    code = "too_many_attempts"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(DomainError):
    code = "unavailable"


class DoesNotFit(InvalidInput):
    """Some instances of a deploy or scale would find no node (answered 422 with the preview in
    ``details``); the caller may force it."""

    code = "does_not_fit"

    def __init__(self, message: str, details: dict[str, object]) -> None:
        super().__init__("instances", message)
        self.details = details
