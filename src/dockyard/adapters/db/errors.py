"""Errors of the database adapter; services never see SQLAlchemy's.

    DatabaseError
    ├── DatabaseUnavailableError   cannot connect, the connection broke, or the URL is unusable
    │                              (also a domain ``Unavailable``)
    └── DatabaseConflictError      a write broke a uniqueness rule (also a domain ``Conflict``)

Messages never contain the database URL, which may hold a password.
"""

from __future__ import annotations

from dockyard.domain.errors import Conflict, Unavailable


class DatabaseError(Exception):
    pass


class DatabaseUnavailableError(DatabaseError, Unavailable):
    pass


class DatabaseConflictError(DatabaseError, Conflict):
    pass
