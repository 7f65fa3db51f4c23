"""Domain owners: who runs a mail host, by email (the user slice may live elsewhere).

Revision ID: lists_0002
Revises: lists_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "lists_0002"
down_revision = "lists_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "domain_owners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mail_host", sa.String(length=253), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_domain_owners")),
    )
    op.create_index(
        op.f("ix_domain_owners_mail_host_email"),
        "domain_owners",
        ["mail_host", "email"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_table("domain_owners")
