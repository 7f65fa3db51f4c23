"""Member preferences beyond delivery mode and status, as one JSON value per membership.

Revision ID: lists_0003
Revises: lists_0002
"""

import sqlalchemy as sa
from alembic import op

revision = "lists_0003"
down_revision = "lists_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("preferences", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.drop_column("preferences")
