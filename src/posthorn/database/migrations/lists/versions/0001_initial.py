"""The list slice's first schema: domains, lists and their settings, members, pendings.

Members name their list by list-id and their address by email, with no foreign key to
any table, so that this slice and the user slice can live in different databases.

Revision ID: lists_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "lists_0001"
down_revision = None
branch_labels = None
depends_on = None

# The commonly used list settings kept as columns (the rest live in extra_settings).
_SETTING_STRINGS = [
    ("display_name", 255),
    ("description", 1024),
    ("info", 4096),
    ("subject_prefix", 255),
    ("preferred_language", 16),
    ("reply_to_address", 254),
    ("posting_pipeline", 64),
    ("owner_pipeline", 64),
    ("posting_chain", 64),
    ("owner_chain", 64),
    ("default_member_action", 16),
    ("default_nonmember_action", 16),
    ("archive_policy", 16),
    ("subscription_policy", 32),
    ("unsubscription_policy", 32),
    ("reply_goes_to_list", 32),
    ("personalize", 16),
    ("member_roster_visibility", 16),
    ("dmarc_mitigate_action", 16),
]
_SETTING_BOOLEANS = [
    "advertised",
    "emergency",
    "anonymous_list",
    "allow_list_posts",
    "include_rfc2369_headers",
    "first_strip_reply_to",
    "require_explicit_destination",
    "admin_immed_notify",
    "send_welcome_message",
    "send_goodbye_message",
    "digests_enabled",
]


def _mailinglists() -> None:
    op.create_table(
        "mailinglists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.String(length=255), nullable=False),
        sa.Column("list_name", sa.String(length=64), nullable=False),
        sa.Column("mail_host", sa.String(length=253), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("volume", sa.Integer(), nullable=False),
        sa.Column("next_digest_number", sa.Integer(), nullable=False),
        sa.Column("last_post_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("digest_last_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("usenet_watermark", sa.Integer(), nullable=True),
        *[
            sa.Column(name, sa.String(length=length), nullable=False)
            for name, length in _SETTING_STRINGS
        ],
        sa.Column("moderator_password", sa.String(length=255), nullable=True),
        *[sa.Column(name, sa.Boolean(), nullable=False) for name in _SETTING_BOOLEANS],
        sa.Column("max_message_size", sa.Integer(), nullable=False),
        sa.Column("max_num_recipients", sa.Integer(), nullable=False),
        sa.Column("extra_settings", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mailinglists")),
    )
    op.create_index(op.f("ix_mailinglists_list_id"), "mailinglists", ["list_id"], unique=True)
    op.create_index(op.f("ix_mailinglists_mail_host"), "mailinglists", ["mail_host"])


def _members() -> None:
    op.create_table(
        "members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.String(length=32), nullable=False),
        sa.Column("list_id", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("moderation_action", sa.String(length=16), nullable=True),
        sa.Column("delivery_mode", sa.String(length=32), nullable=False),
        sa.Column("delivery_status", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=True),
        sa.Column("subscribed_on", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_members")),
    )
    op.create_index(op.f("ix_members_member_id"), "members", ["member_id"], unique=True)
    op.create_index(
        op.f("ix_members_list_id_email_role"),
        "members",
        ["list_id", "email", "role"],
        unique=True,
    )
    op.create_index(op.f("ix_members_email"), "members", ["email"])
    op.create_index(op.f("ix_members_user_id"), "members", ["user_id"])


def upgrade() -> None:
    op.create_table(
        "domains",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mail_host", sa.String(length=253), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("alias_domain", sa.String(length=253), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_domains")),
    )
    op.create_index(op.f("ix_domains_mail_host"), "domains", ["mail_host"], unique=True)
    _mailinglists()
    _members()
    op.create_table(
        "pendings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("list_id", sa.String(length=255), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_on", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_on", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pendings")),
    )
    op.create_index(op.f("ix_pendings_token"), "pendings", ["token"], unique=True)
    op.create_index(op.f("ix_pendings_list_id"), "pendings", ["list_id"])
    op.create_index(op.f("ix_pendings_expires_on"), "pendings", ["expires_on"])


def downgrade() -> None:
    op.drop_table("pendings")
    op.drop_table("members")
    op.drop_table("mailinglists")
    op.drop_table("domains")
