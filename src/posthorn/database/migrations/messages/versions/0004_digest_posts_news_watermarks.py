"""Digest posts and news watermarks: state that every host of a site reads and writes.

Revision ID: messages_0004
Revises: messages_0003
"""

import sqlalchemy as sa
from alembic import op

revision = "messages_0004"
down_revision = "messages_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "digest_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.String(length=255), nullable=False),
        sa.Column("post_key", sa.String(length=64), nullable=True),
        sa.Column("issue", sa.String(length=16), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("added_on", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_posts")),
    )
    op.create_index(
        "ix_digest_posts_list_id_post_key", "digest_posts", ["list_id", "post_key"], unique=True
    )
    op.create_index("ix_digest_posts_list_id_issue", "digest_posts", ["list_id", "issue"])
    op.create_table(
        "news_watermarks",
        sa.Column("list_id", sa.String(length=255), nullable=False),
        sa.Column("newsgroup", sa.String(length=255), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("list_id", "newsgroup", name=op.f("pk_news_watermarks")),
    )


def downgrade() -> None:
    op.drop_table("news_watermarks")
    op.drop_table("digest_posts")
