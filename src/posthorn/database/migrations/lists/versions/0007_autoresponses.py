"""Autoresponses: when a list last answered an address automatically, per kind.

A branch from the first schema, like 0004 to 0006; the schema upgrade runs to every head.

Revision ID: lists_0007
Revises: lists_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "lists_0007"
down_revision = "lists_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "autoresponses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("date_sent", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_autoresponses")),
    )
    op.create_index(
        "ix_autoresponses_list_id_email_kind",
        "autoresponses",
        ["list_id", "email", "kind"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_table("autoresponses")
