"""The Alembic migrations build exactly the schema the table models describe."""

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from dockyard.adapters.db import migrate
from dockyard.adapters.db.engine import make_engine
from dockyard.adapters.db.tables import Base


async def test_migrations_match_the_models(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")
    try:
        await migrate.upgrade(engine)
        await migrate.upgrade(engine)  # a second run is a no-op
        async with engine.connect() as conn:
            differences = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
            )
    finally:
        await engine.dispose()
    assert differences == []
