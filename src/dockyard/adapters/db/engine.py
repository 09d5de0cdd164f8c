"""The database engine: SQLite (WAL, busy timeout, foreign keys) embedded, PostgreSQL by URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from dockyard.adapters.db.errors import DatabaseUnavailableError


def make_engine(url: str) -> AsyncEngine:
    """An async engine for ``url``; for SQLite the file's directory is created.

    Raises :class:`DatabaseUnavailableError` for a URL that cannot be used (without repeating it).
    """
    try:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_async_engine(url, connect_args={"timeout": 30})
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
            return engine
        return create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)
    except OSError as e:
        raise DatabaseUnavailableError(f"cannot create the SQLite database's directory: {e.strerror}") from e
    except (ArgumentError, ValueError) as e:
        raise DatabaseUnavailableError(f"the database URL is not usable ({type(e).__name__})") from e


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def ping(engine: AsyncEngine) -> str:
    """``SELECT 1``; returns the backend's name or raises :class:`DatabaseUnavailableError`."""
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError) as e:
        raise DatabaseUnavailableError(f"{engine.dialect.name}: {type(e).__name__}") from e
    return engine.dialect.name
