"""statistics: sampled steps, daily amounts per instance and per group (exact integers), and the
clusters' prices

Revision ID: 0021
Revises: 0020
"""

from alembic import op
import sqlalchemy as sa


revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

AMOUNTS = (
    "cpu_requested",
    "cpu_used",
    "cpu_billed",
    "memory_requested",
    "memory_used",
    "memory_billed",
    "seconds",
    "unmeasured",
)


def _amounts() -> list[sa.Column[int]]:
    return [sa.Column(name, sa.BigInteger(), nullable=False) for name in AMOUNTS]


def upgrade() -> None:
    op.create_table(
        "stat_ticks",
        sa.Column("at", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("instances", sa.Integer(), nullable=False),
        sa.Column("measured", sa.Boolean(), nullable=False),
        sa.Column("runner", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("at", name=op.f("pk_stat_ticks")),
    )
    op.create_table(
        "stat_instance_days",
        *_amounts(),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("cluster", sa.String(length=63), nullable=False),
        sa.Column("system", sa.String(length=63), nullable=False),
        sa.Column("instance", sa.String(length=253), nullable=False),
        sa.Column("app", sa.String(length=63), nullable=False),
        sa.Column("group", sa.String(length=63), nullable=False),
        sa.Column("idc", sa.String(length=63), nullable=False),
        sa.PrimaryKeyConstraint("day", "cluster", "system", "instance", name=op.f("pk_stat_instance_days")),
    )
    op.create_table(
        "stat_group_days",
        *_amounts(),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("cluster", sa.String(length=63), nullable=False),
        sa.Column("system", sa.String(length=63), nullable=False),
        sa.Column("app", sa.String(length=63), nullable=False),
        sa.Column("group", sa.String(length=63), nullable=False),
        sa.Column("idc", sa.String(length=63), nullable=False),
        sa.PrimaryKeyConstraint("day", "cluster", "system", "app", "group", name=op.f("pk_stat_group_days")),
    )
    op.create_table(
        "cluster_prices",
        sa.Column("cluster", sa.String(length=63), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("core_hour", sa.String(length=40), nullable=False),
        sa.Column("gib_hour", sa.String(length=40), nullable=False),
        sa.Column("set_by", sa.String(length=100), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("cluster", "since", name=op.f("pk_cluster_prices")),
    )


def downgrade() -> None:
    op.drop_table("cluster_prices")
    op.drop_table("stat_group_days")
    op.drop_table("stat_instance_days")
    op.drop_table("stat_ticks")
