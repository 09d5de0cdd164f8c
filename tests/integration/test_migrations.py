"""The Alembic migrations build exactly the schema the table models describe, on both databases."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from dockyard.adapters.db import migrate
from dockyard.adapters.db.engine import make_engine
from dockyard.adapters.db.tables import Base

pytestmark = pytest.mark.both_databases


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


async def test_existing_groups_keep_their_cluster_when_groups_may_span_several(database_url: str) -> None:
    """0013: every group becomes one row of group_clusters: its cluster, its current version's count."""
    engine = make_engine(database_url)
    try:
        await migrate.upgrade(engine, "0010")
        async with engine.begin() as conn:
            for statement in (
                "INSERT INTO clusters (id, name, kubeconfig, kubeconfig_form, labels) "
                "VALUES (1, 'local', 'x', 'sealed', '{}')",
                "INSERT INTO systems (id, name, description, quota_cpu_millis, quota_memory_mib) "
                "VALUES (1, 'shop', '', 0, 0)",
                "INSERT INTO applications (id, system_id, name, repository, business_id, owners) "
                "VALUES (1, 1, 'web', 'r.local/web', '', '[]')",
                'INSERT INTO "groups" (id, application_id, cluster_id, name, environment, current_version, '
                "latest_version) "
                "VALUES (1, 1, 1, 'prod', 'prod', 2, 2), (2, 1, 1, 'fresh', 'test', NULL, 0)",
                "INSERT INTO versions (group_id, number, spec, created_by, reason, created_at) VALUES "
                "(1, 1, '{\"instances\": 3}', 'a', '', CURRENT_TIMESTAMP), "
                "(1, 2, '{\"instances\": 5}', 'a', '', CURRENT_TIMESTAMP)",
            ):
                await conn.execute(text(statement))
        await migrate.upgrade(engine)
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    text("SELECT group_id, cluster_id, instances, version FROM group_clusters ORDER BY 1")
                )
            ).all()
    finally:
        await engine.dispose()
    assert [tuple(r) for r in rows] == [(1, 1, 5, 2), (2, 1, 0, None)]
