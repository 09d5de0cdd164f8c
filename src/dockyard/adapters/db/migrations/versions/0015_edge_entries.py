"""edge entries: which groups the edge load balancer serves, and on which of their ports

Revision ID: 0015
Revises: 0014

``groups.edge_port``: NULL for a group without an edge entry; else the name of the version's port the
edge serves ("" for its port named ``http``, else its first TCP port). Added and dropped in place
(ALTER TABLE), never by a batch copy, which would drop the table's generation triggers on SQLite.
"""

from alembic import op
import sqlalchemy as sa


revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("groups", sa.Column("edge_port", sa.String(length=15), nullable=True))


def downgrade() -> None:
    op.drop_column("groups", "edge_port")
