"""User and address preferences, as one JSON value each (only what was set).

Revision ID: users_0002
Revises: users_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "users_0002"
down_revision = "users_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("users", "addresses"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("preferences", sa.JSON(), nullable=True))


def downgrade() -> None:
    for table in ("addresses", "users"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("preferences")
