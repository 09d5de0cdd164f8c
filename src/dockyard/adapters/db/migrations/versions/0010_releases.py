"""releases: the state of gray releases, one per release operation

Revision ID: 0010
Revises: 0009
"""

from alembic import op
import sqlalchemy as sa


revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "releases",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("system", sa.String(length=63), nullable=False),
        sa.Column("app", sa.String(length=63), nullable=False),
        sa.Column("group", sa.String(length=63), nullable=False),
        sa.Column("strategy", sa.String(length=16), nullable=False),
        sa.Column("stable_version", sa.Integer(), nullable=True),
        sa.Column("new_version", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("command", sa.String(length=16), nullable=False),
        sa.Column("pause_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ledger", sa.JSON(), nullable=False),
        sa.Column("error", sa.String(length=4000), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["id"], ["operations.id"], name=op.f("fk_releases_id_operations"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_releases")),
    )
    op.create_index("ix_releases_group", "releases", ["system", "app", "group"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_releases_group", table_name="releases")
    op.drop_table("releases")
