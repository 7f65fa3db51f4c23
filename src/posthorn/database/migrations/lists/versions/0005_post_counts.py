"""Post counts: the number each recent post got, so a redone post keeps its number.

A branch from the first schema, like 0004; the schema upgrade runs to every head.

Revision ID: lists_0005
Revises: lists_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "lists_0005"
down_revision = "lists_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "post_counts",
        sa.Column("list_id", sa.String(length=255), nullable=False),
        sa.Column("message_id_hash", sa.String(length=32), nullable=False),
        sa.Column("post_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("list_id", "message_id_hash", name=op.f("pk_post_counts")),
    )


def downgrade() -> None:
    op.drop_table("post_counts")
