"""Alembic, driven from code: one script directory and one version table per slice.

Each slice (``migrations/users``, ``migrations/lists``, ``migrations/messages``) keeps
its own revision history and version table, so a slice can move to another database
and keep its history, and three slices sharing one database never see each other's
tables.  There is no alembic.ini; ``alembic_config(slice)`` builds the configuration.

Several processes may start at once (runners, the REST server, a CLI command), so the
check-and-migrate step runs under a lock: an advisory lock on PostgreSQL, a lock file
beside a SQLite database.
"""

from __future__ import annotations

import fcntl
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

from posthorn.model import metadata

__all__ = ["VERSION_TABLES", "alembic_config", "include_name", "run_migrations", "upgrade_slice"]

SCRIPT_DIRS = {"user": "users", "list": "lists", "message": "messages"}
VERSION_TABLES = {slice_: f"alembic_version_{name}" for slice_, name in SCRIPT_DIRS.items()}


def script_location(slice_: str) -> str:
    return str(resources.files("posthorn.database").joinpath("migrations", SCRIPT_DIRS[slice_]))


def alembic_config(slice_: str, connection: Connection | None = None) -> AlembicConfig:
    """The Alembic configuration for one slice, optionally bound to a connection."""
    config = AlembicConfig()
    config.set_main_option("script_location", script_location(slice_))
    config.attributes["slice"] = slice_
    config.attributes["connection"] = connection
    return config


NameFilter = Callable[[str | None, str, Any], bool]


def include_name(slice_: str) -> NameFilter:
    """A filter that shows Alembic only this slice's tables in a shared database."""
    tables = set(metadata(slice_).tables)

    def include(name: str | None, type_: str, _parents: Any) -> bool:
        return type_ != "table" or name in tables

    return include


def run_migrations(context: Any) -> None:
    """The body of every slice's env.py: migrate on the connection upgrade_slice gave."""
    config = context.config
    slice_ = config.attributes.get("slice")
    connection = config.attributes.get("connection")
    if slice_ is None or connection is None:
        raise RuntimeError("Posthorn migrations run through Databases.upgrade(), not alembic")
    context.configure(
        connection=connection,
        target_metadata=metadata(slice_),
        version_table=VERSION_TABLES[slice_],
        include_name=include_name(slice_),
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


@contextmanager
def _migration_lock(connection: Connection, slice_: str) -> Iterator[None]:
    """Let one process at a time check and migrate a slice."""
    dialect = connection.dialect.name
    if dialect == "postgresql":
        # Held until the transaction ends, i.e. until the migration commits.
        key = zlib.crc32(f"posthorn-migrate-{slice_}".encode())
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
        yield
    elif dialect == "sqlite" and connection.engine.url.database not in (None, "", ":memory:"):
        lock_path = Path(f"{connection.engine.url.database}.migrate-lock")
        with lock_path.open("a") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)
    else:
        yield


def current_heads(connection: Connection, slice_: str) -> set[str]:
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLES[slice_]})
    return set(context.get_current_heads())


def upgrade_slice(engine: Engine, slice_: str) -> None:
    """Migrate one slice to its newest revision; a no-op costing one query if current."""
    config = alembic_config(slice_)
    heads = set(ScriptDirectory.from_config(config).get_heads())
    with engine.connect() as connection, _migration_lock(connection, slice_):
        if current_heads(connection, slice_) == heads:
            connection.rollback()
            return
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")
        connection.commit()
