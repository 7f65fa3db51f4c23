"""Bounce state: each member's bounce score, its dates and the warnings sent.

A branch from the first schema, so it applies whatever other list migrations exist;
the schema upgrade runs to every head.

Revision ID: lists_0004
Revises: lists_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "lists_0004"
down_revision = "lists_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bounce_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("last_bounce", sa.DateTime(timezone=True), nullable=True),
        sa.Column("warnings_sent", sa.Integer(), nullable=False),
        sa.Column("last_warning", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bounce_state")),
    )
    op.create_index(
        op.f("ix_bounce_state_list_id_email"), "bounce_state", ["list_id", "email"], unique=True
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_bounce_state_list_id_email"), table_name="bounce_state")
    op.drop_table("bounce_state")
