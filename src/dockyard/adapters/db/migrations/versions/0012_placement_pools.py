"""placement: pools dedicated to one application, the CPU model chosen for an application

Revision ID: 0012
Revises: 0010
"""

from alembic import op
import sqlalchemy as sa


revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dedicated_pools",
        sa.Column("cluster", sa.String(length=63), nullable=False),
        sa.Column("pool", sa.String(length=63), nullable=False),
        sa.Column("system", sa.String(length=63), nullable=False),
        sa.Column("app", sa.String(length=63), nullable=False),
        sa.Column("dedicated_by", sa.String(length=100), nullable=False),
        sa.Column("dedicated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("cluster", "pool", name=op.f("pk_dedicated_pools")),
    )
    op.create_table(
        "app_cpu_models",
        sa.Column("system", sa.String(length=63), nullable=False),
        sa.Column("app", sa.String(length=63), nullable=False),
        sa.Column("cpu_model", sa.String(length=63), nullable=False),
        sa.Column("chosen_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("system", "app", name=op.f("pk_app_cpu_models")),
    )


def downgrade() -> None:
    op.drop_table("app_cpu_models")
    op.drop_table("dedicated_pools")
