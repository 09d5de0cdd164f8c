"""Errors of the database adapter; services never see SQLAlchemy's.

DatabaseError
└── DatabaseUnavailableError   cannot connect, or the connection broke
"""

from __future__ import annotations


class DatabaseError(Exception):
    pass


class DatabaseUnavailableError(DatabaseError):
    pass
