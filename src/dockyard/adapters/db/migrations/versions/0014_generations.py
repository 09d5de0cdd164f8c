"""generations: counters bumped by triggers whenever identity or the application model changes,
for per-process caches

Revision ID: 0014
Revises: 0013

Each counter of ``generations`` goes up by one in every transaction that inserts, updates or deletes
a row of the tables it covers (cascades included), as part of that transaction, so a reader sees the
new value exactly when it can see the change: ``identity`` for users, API tokens and role bindings;
``model`` for systems, applications, groups, where groups run and clusters. On PostgreSQL the
triggers are deferred constraint triggers, so a counter's row is locked only while committing (no
writer holds it while waiting for another lock: no deadlock through it). On SQLite, a later batch
migration that copies one of these tables drops its triggers: it must create them again.
"""

from alembic import op
import sqlalchemy as sa


revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

COVERED = {
    "identity": ("users", "api_tokens", "role_bindings"),
    "model": ("systems", "applications", "groups", "group_clusters", "clusters"),
}
EVENTS = ("insert", "update", "delete")


def _bump(name: str) -> str:
    return f"UPDATE generations SET value = value + 1 WHERE name = '{name}'"  # noqa: S608 - names above


def upgrade() -> None:
    op.create_table(
        "generations",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_generations")),
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name, tables in COVERED.items():
        op.execute(sa.text("INSERT INTO generations (name, value) VALUES (:name, 0)").bindparams(name=name))
        if postgresql:
            op.execute(
                f"CREATE FUNCTION bump_{name}_generation() RETURNS trigger LANGUAGE plpgsql AS "
                f"$$ BEGIN {_bump(name)}; RETURN NULL; END $$"
            )
        for table in tables:
            if postgresql:
                op.execute(
                    f"CREATE CONSTRAINT TRIGGER {table}_{name}_generation "
                    f'AFTER INSERT OR UPDATE OR DELETE ON "{table}" DEFERRABLE INITIALLY DEFERRED '
                    f"FOR EACH ROW EXECUTE FUNCTION bump_{name}_generation()"
                )
                continue
            for event in EVENTS:
                op.execute(
                    f'CREATE TRIGGER {table}_{name}_generation_{event} AFTER {event.upper()} ON "{table}" '
                    f"BEGIN {_bump(name)}; END"
                )


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name, tables in COVERED.items():
        for table in tables:
            if postgresql:
                op.execute(f'DROP TRIGGER {table}_{name}_generation ON "{table}"')
            else:
                for event in EVENTS:
                    op.execute(f"DROP TRIGGER {table}_{name}_generation_{event}")
        if postgresql:
            op.execute(f"DROP FUNCTION bump_{name}_generation()")
    op.drop_table("generations")
