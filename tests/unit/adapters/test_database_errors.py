"""What a failed database call says: SQLite's own reason (a lock is not a full disk), never a value
PostgreSQL quotes."""

from __future__ import annotations

import sqlite3

from sqlalchemy.exc import OperationalError

from dockyard.adapters.db.database import unavailable


class PgError(Exception):
    """Stands for asyncpg's errors, whose text can quote a row."""


def test_sqlite_says_why_postgresql_does_not_quote_values() -> None:
    locked = OperationalError("INSERT INTO builds ...", {}, sqlite3.OperationalError("database is locked"))
    assert unavailable(locked) == "OperationalError while talking to the database (SQLite: database is locked)"
    quoting = OperationalError("UPDATE ...", {}, PgError('value "s3cr3t" violates ...'))
    assert unavailable(quoting) == "OperationalError while talking to the database"
    assert unavailable(OSError("gone")) == "OSError while talking to the database"
