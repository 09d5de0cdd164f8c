"""alert rules: system owners' overrides of the built-in rules' thresholds, per application or
group, as revisions (who changed what, when, why)

Revision ID: 0016
Revises: 0015
"""

from alembic import op
import sqlalchemy as sa


revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_rule_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("system_id", sa.Integer(), nullable=False),
        sa.Column("app", sa.String(length=63), nullable=False),
        sa.Column("group_name", sa.String(length=63), nullable=False),
        sa.Column("rule", sa.String(length=63), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=True),
        sa.Column("cleared", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("changed_by", sa.String(length=100), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["system_id"], ["systems.id"], name=op.f("fk_alert_rule_revisions_system_id_systems"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_rule_revisions")),
        sa.UniqueConstraint(
            "system_id",
            "app",
            "group_name",
            "rule",
            "revision",
            name=op.f("uq_alert_rule_revisions_system_id_app_group_name_rule_revision"),
        ),
    )
    op.create_index("ix_alert_rule_revisions_system_id", "alert_rule_revisions", ["system_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_alert_rule_revisions_system_id", table_name="alert_rule_revisions")
    op.drop_table("alert_rule_revisions")
