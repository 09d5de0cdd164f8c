"""builds: build jobs (git commit → image by digest) and their logs

Revision ID: 0011
Revises: 0010
"""

from alembic import op
import sqlalchemy as sa


revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "builds",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("system", sa.String(length=63), nullable=False),
        sa.Column("app", sa.String(length=63), nullable=False),
        sa.Column("source", sa.String(length=2000), nullable=False),
        sa.Column("ref_kind", sa.String(length=8), nullable=False),
        sa.Column("ref", sa.String(length=200), nullable=False),
        sa.Column("dockerfile", sa.String(length=255), nullable=False),
        sa.Column("build_args", sa.JSON(), nullable=False),
        sa.Column("force", sa.Boolean(), nullable=False),
        sa.Column("timeout_seconds", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("commit", sa.String(length=40), nullable=False),
        sa.Column("image", sa.String(length=400), nullable=False),
        sa.Column("tag", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.String(length=4000), nullable=False),
        sa.Column("reused_from", sa.String(length=36), nullable=False),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("runner", sa.String(length=100), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_builds")),
    )
    op.create_index("ix_builds_app", "builds", ["system", "app", "created_at"], unique=False)
    op.create_index("ix_builds_status", "builds", ["status"], unique=False)
    op.create_table(
        "build_logs",
        sa.Column("build_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["build_id"], ["builds.id"], name=op.f("fk_build_logs_build_id_builds"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("build_id", "seq", name=op.f("pk_build_logs")),
    )


def downgrade() -> None:
    op.drop_table("build_logs")
    op.drop_index("ix_builds_status", table_name="builds")
    op.drop_index("ix_builds_app", table_name="builds")
    op.drop_table("builds")
