"""Job runs: when each site-wide periodic job last began, read by every host.

Revision ID: messages_0002
Revises: messages_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "messages_0002"
down_revision = "messages_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_runs")),
    )


def downgrade() -> None:
    op.drop_table("job_runs")
