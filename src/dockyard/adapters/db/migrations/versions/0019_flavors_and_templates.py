"""flavors and templates: the platform's flavor catalog (seeded with the built-in flavors, so nothing
existing changes) and the versions of component templates

Revision ID: 0019
Revises: 0018
"""

from alembic import op
import sqlalchemy as sa


revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

# The built-in flavors as they were in code (domain/flavors.py) when the catalog moved here.
_BUILTIN = (
    ("tiny", 250, 256),
    ("small", 1000, 1024),
    ("medium", 2000, 4096),
    ("large", 4000, 8192),
    ("xlarge", 8000, 16384),
)


def upgrade() -> None:
    flavors = op.create_table(
        "flavors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("cpu_millis", sa.Integer(), nullable=False),
        sa.Column("memory_mib", sa.Integer(), nullable=False),
        sa.Column("extended", sa.JSON(), nullable=False),
        sa.Column("clusters", sa.JSON(), nullable=False),
        sa.Column("pools", sa.JSON(), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flavors")),
        sa.UniqueConstraint("name", name=op.f("uq_flavors_name")),
    )
    op.bulk_insert(
        flavors,
        [
            {
                "name": name,
                "cpu_millis": cpu,
                "memory_mib": memory,
                "extended": {},
                "clusters": [],
                "pools": [],
                "description": "built in",
                "updated_by": "",
            }
            for name, cpu, memory in _BUILTIN
        ],
    )
    op.create_table(
        "template_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_template_versions")),
        sa.UniqueConstraint("owner", "name", "version", name=op.f("uq_template_versions_owner_name_version")),
    )
    op.create_index("ix_template_versions_owner", "template_versions", ["owner"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_template_versions_owner", table_name="template_versions")
    op.drop_table("template_versions")
    op.drop_table("flavors")
