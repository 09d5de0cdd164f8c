"""Errors of the database adapter; services never see SQLAlchemy's.

Each is also the domain's failure (``dockyard.domain.failures``) of the same name without ``Error``.

    DatabaseError
    ├── DatabaseUnavailableError   cannot connect, the connection broke, or the URL is unusable
    │                              (also a domain ``Unavailable``)
    └── DatabaseConflictError      a write broke a uniqueness rule (also a domain ``Conflict``)

Messages never contain the database URL, which may hold a password.
"""

from __future__ import annotations

from dockyard.domain.failures import DatabaseConflict, DatabaseFailure, DatabaseUnavailable


class DatabaseError(DatabaseFailure):
    pass


class DatabaseUnavailableError(DatabaseError, DatabaseUnavailable):
    pass


class DatabaseConflictError(DatabaseError, DatabaseConflict):
    pass
