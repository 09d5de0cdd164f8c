"""The Alembic migrations build exactly the schema the table models describe, on both databases."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from dockyard.adapters.db import migrate
from dockyard.adapters.db.engine import make_engine
from dockyard.adapters.db.tables import Base


async def test_migrations_match_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        await migrate.upgrade(engine)
        await migrate.upgrade(engine)  # a second run is a no-op
        async with engine.connect() as conn:
            differences = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
            )
            indexes = await conn.run_sync(lambda sync: {i["name"] for i in inspect(sync).get_indexes("operations")})
    finally:
        await engine.dispose()
    assert differences == []
    assert "uq_operations_active_group" in indexes
