"""Delivery records: which recipients of a post are served, seen by every host.

Revision ID: messages_0003
Revises: messages_0002
"""

import sqlalchemy as sa
from alembic import op

revision = "messages_0003"
down_revision = "messages_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "delivery_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_key", sa.String(length=40), nullable=False),
        sa.Column("mark", sa.String(length=8), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_records")),
    )
    op.create_index(
        "ix_delivery_records_record_key_mark_address",
        "delivery_records",
        ["record_key", "mark", "address"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_table("delivery_records")
