"""many clusters: where each group runs (group_clusters), location grants, applications' default
location, releases that go cluster by cluster

Revision ID: 0013
Revises: 0010

Every existing group keeps running where it ran: ``groups.cluster_id`` stays (the group's home
cluster, used when no location is given) and becomes its one row in ``group_clusters``, with the
instance count and version it runs there (the current version's, or 0 and none before a deploy).
"""

import json

from alembic import op
import sqlalchemy as sa


revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "group_clusters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("instances", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_group_clusters_group_id_groups"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["cluster_id"], ["clusters.id"], name=op.f("fk_group_clusters_cluster_id_clusters"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_clusters")),
        sa.UniqueConstraint("group_id", "cluster_id", name=op.f("uq_group_clusters_group_id_cluster_id")),
    )
    op.create_table(
        "location_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("system_id", sa.Integer(), nullable=False),
        sa.Column("location", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("requested_by", sa.String(length=100), nullable=False),
        sa.Column("decided_by", sa.String(length=100), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["system_id"], ["systems.id"], name=op.f("fk_location_grants_system_id_systems"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_location_grants")),
    )
    op.create_index("ix_location_grants_system_id", "location_grants", ["system_id"], unique=False)
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("location", sa.JSON(), nullable=True))
    with op.batch_alter_table("releases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("clusters", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("cluster_index", sa.Integer(), nullable=False, server_default="0"))
    _copy_group_clusters()


def _copy_group_clusters() -> None:
    bind = op.get_bind()
    groups = bind.execute(sa.text('SELECT id, cluster_id, current_version FROM "groups"')).all()
    for group_id, cluster_id, current in groups:
        instances = 0
        if current is not None:
            spec = bind.execute(
                sa.text("SELECT spec FROM versions WHERE group_id = :g AND number = :n"), {"g": group_id, "n": current}
            ).scalar()
            data = json.loads(spec) if isinstance(spec, str) else (spec or {})
            instances = int(data.get("instances", 0))
        bind.execute(
            sa.text("INSERT INTO group_clusters (group_id, cluster_id, instances, version) VALUES (:g, :c, :i, :v)"),
            {"g": group_id, "c": cluster_id, "i": instances, "v": current},
        )


def downgrade() -> None:
    with op.batch_alter_table("releases", schema=None) as batch_op:
        batch_op.drop_column("cluster_index")
        batch_op.drop_column("clusters")
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_column("location")
    op.drop_index("ix_location_grants_system_id", table_name="location_grants")
    op.drop_table("location_grants")
    op.drop_table("group_clusters")
