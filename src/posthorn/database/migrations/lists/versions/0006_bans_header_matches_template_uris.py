"""Bans, header matches and template URIs get their own tables.

A branch from the first schema, like 0004 and 0005.  The lists' former ``ban_list`` and
``header_matches`` settings (JSON strings in ``extra_settings``) become rows: a ban's
``ACTION:`` prefix is dropped (a ban always rejects, as in Mailman; the chain's
``banned-address=ACTION`` changes that for the site), and a header check
``HEADER:ACTION:REGEX`` keeps its action and order.  The downgrade drops the tables.

Revision ID: lists_0006
Revises: lists_0001
"""

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "lists_0006"
down_revision = "lists_0001"
branch_labels = None
depends_on = None

_ACTIONS = ("accept", "hold", "reject", "discard")


def upgrade() -> None:
    op.create_table(
        "bans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("is_pattern", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bans")),
    )
    op.create_index("ix_bans_list_id_email", "bans", ["list_id", "email"], unique=True)
    op.create_index("ix_bans_is_pattern_list_id", "bans", ["is_pattern", "list_id"])
    op.create_table(
        "header_matches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.String(length=255), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("header", sa.String(length=255), nullable=False),
        sa.Column("pattern", sa.Text(), nullable=False),
        sa.Column("chain", sa.String(length=64), nullable=True),
        sa.Column("tag", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_header_matches")),
    )
    op.create_index("ix_header_matches_list_id_position", "header_matches", ["list_id", "position"])
    op.create_table(
        "template_uris",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("context", sa.String(length=255), nullable=False),
        sa.Column("uri", sa.Text(), nullable=False),
        sa.Column("username", sa.String(length=255), nullable=True),
        sa.Column("password", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_template_uris")),
    )
    op.create_index(
        "ix_template_uris_context_name", "template_uris", ["context", "name"], unique=True
    )
    _move_settings()


def _ban(entry: str) -> tuple[str, bool] | None:
    action, sep, rest = entry.partition(":")
    if sep and action.strip().lower() in (*_ACTIONS, "defer"):
        entry = rest
    entry = entry.strip()
    if not entry:
        return None
    return (entry, True) if entry.startswith("^") else (entry.lower(), False)


def _header_match(entry: str) -> tuple[str, str, str] | None:
    header, _, rest = entry.partition(":")
    action, sep, pattern = rest.partition(":")
    action = action.strip().lower()
    if not sep or not header.strip() or action not in _ACTIONS:
        return None
    return header.strip().lower(), action, pattern.strip()


def _move_settings() -> None:
    """Turn each list's ban_list and header_matches settings into rows."""
    connection = op.get_bind()
    lists = sa.table(
        "mailinglists",
        sa.column("list_id", sa.String()),
        sa.column("extra_settings", sa.JSON()),
    )
    for list_id, extra in connection.execute(sa.select(lists.c.list_id, lists.c.extra_settings)):
        settings: dict[str, Any] = extra if isinstance(extra, dict) else json.loads(extra or "{}")
        if "ban_list" not in settings and "header_matches" not in settings:
            continue
        seen: set[str] = set()
        for entry in settings.pop("ban_list", None) or ():
            ban = _ban(str(entry))
            if ban is not None and ban[0] not in seen:
                seen.add(ban[0])
                connection.execute(
                    sa.text("INSERT INTO bans (list_id, email, is_pattern) VALUES (:l, :e, :p)"),
                    {"l": list_id, "e": ban[0], "p": ban[1]},
                )
        position = 0
        for entry in settings.pop("header_matches", None) or ():
            match = _header_match(str(entry))
            if match is None:
                continue
            connection.execute(
                sa.text(
                    "INSERT INTO header_matches (list_id, position, header, pattern, chain)"
                    " VALUES (:l, :n, :h, :p, :c)"
                ),
                {"l": list_id, "n": position, "h": match[0], "p": match[2], "c": match[1]},
            )
            position += 1
        connection.execute(
            lists.update().where(lists.c.list_id == list_id).values(extra_settings=settings)
        )


def downgrade() -> None:
    op.drop_table("template_uris")
    op.drop_table("header_matches")
    op.drop_table("bans")
