"""secrets at rest: the key check; cluster kubeconfigs stored sealed instead of as paths

Revision ID: 0006
Revises: 0005

Existing clusters keep their kubeconfig column (a path, or "in-cluster") and are marked by
``kubeconfig_form``: "in-cluster", else "path". The server, at its next start, reads each marked path
once and stores the file's content sealed (dockyard.services.credentials), which needs the secret key
that this migration does not have. A downgrade forgets sealed kubeconfigs: those clusters must then be
registered again by path.
"""

from alembic import op
import sqlalchemy as sa


revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "key_checks",
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_key_checks")),
    )
    with op.batch_alter_table("clusters", schema=None) as batch_op:
        batch_op.alter_column(
            "kubeconfig", existing_type=sa.String(length=4096), type_=sa.Text(), existing_nullable=False
        )
        batch_op.add_column(sa.Column("kubeconfig_form", sa.String(length=16), nullable=False, server_default="path"))
    op.execute("UPDATE clusters SET kubeconfig_form = 'in-cluster' WHERE kubeconfig = 'in-cluster'")


def downgrade() -> None:
    op.execute("UPDATE clusters SET kubeconfig = '' WHERE kubeconfig_form = 'sealed'")
    with op.batch_alter_table("clusters", schema=None) as batch_op:
        batch_op.drop_column("kubeconfig_form")
        batch_op.alter_column(
            "kubeconfig", existing_type=sa.Text(), type_=sa.String(length=4096), existing_nullable=False
        )
    op.drop_table("key_checks")
