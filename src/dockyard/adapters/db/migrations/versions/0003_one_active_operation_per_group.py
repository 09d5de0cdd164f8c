"""one active operation per group

Revision ID: 0003
Revises: 0002
"""

from alembic import op
import sqlalchemy as sa


revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("operations", schema=None) as batch_op:
        batch_op.create_index(
            "uq_operations_active_group",
            ["system", "app", "group"],
            unique=True,
            sqlite_where=sa.text("status IN ('pending', 'running') AND \"group\" != ''"),
            postgresql_where=sa.text("status IN ('pending', 'running') AND \"group\" != ''"),
        )


def downgrade() -> None:
    with op.batch_alter_table("operations", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_operations_active_group",
            sqlite_where=sa.text("status IN ('pending', 'running') AND \"group\" != ''"),
            postgresql_where=sa.text("status IN ('pending', 'running') AND \"group\" != ''"),
        )
