"""Alembic environment for the message slice; Databases.upgrade() supplies the connection."""

from alembic import context

from posthorn.database.migrating import run_migrations

run_migrations(context)
