"""The message slice's first schema: the message store and held messages.

Revision ID: messages_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "messages_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Text(), nullable=False),
        sa.Column("message_id_hash", sa.String(length=32), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("added_on", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
    )
    op.create_index(
        op.f("ix_messages_message_id_hash"), "messages", ["message_id_hash"], unique=True
    )
    op.create_table(
        "held_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.String(length=255), nullable=False),
        sa.Column("message_id", sa.Text(), nullable=False),
        sa.Column("message_id_hash", sa.String(length=32), nullable=False),
        sa.Column("sender", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("msgdata", sa.JSON(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("held_on", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_held_messages")),
    )
    op.create_index(op.f("ix_held_messages_list_id"), "held_messages", ["list_id"], unique=False)
    op.create_index(
        op.f("ix_held_messages_message_id_hash"),
        "held_messages",
        ["message_id_hash"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_table("held_messages")
    op.drop_table("messages")
