"""Open a GNU Mailman 3 database read-only and tell which Mailman it belongs to.

Any SQLAlchemy URL works (SQLite, PostgreSQL, MySQL).  The tables are reflected, not
declared, so no Mailman code is needed; nothing is ever written: SQLite is opened in
read-only mode, and on the servers every statement is a SELECT in a transaction that
is rolled back.  The Alembic revision names the schema version; a database without
Mailman's tables, or at a revision this reader does not know, is refused with a
message saying which.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, MetaData, Table, create_engine, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from posthorn.errors import PosthornError

__all__ = ["Mailman3Error", "MailmanDatabase", "as_utc", "as_uuid_hex", "duration", "open_mailman"]

# Mailman's Alembic revisions, oldest first (mailman/database/alembic/versions).
REVISIONS = (
    "51b7f92bd06c", "33e1f5f6fa8", "46e92facee7", "16c2b25c7b", "2bb9b382198",
    "42756496720", "33bc0099223", "3e09bb4a5dc", "47294d3a604", "70af5a4e5790",
    "781a38e146bf", "bfda02ab3a9b", "d4fbb4fd34ca", "7b254d88f122", "fa0d96e28631",
    "448a93984c35", "a46993b05703", "3002bac0c25a", "4bd95c99b2e7", "3f31035ed0d7",
    "dfe82cf73702", "89913992dd5a", "b2e694dfde35", "15401063d4e3", "2d2d0ef0828f",
    "83339e4039da", "d151c0b8d6f7", "9735f5e5dbdb", "2b73fbcc97c9", "472e6d713047",
    "ec5fe422e27c", "bc0c49c6dda2", "98224512c9c2", "2156fc3f6f7d", "729a8f2045da",
    "8cc1f79f4459",
)  # fmt: skip
# The first revision of Mailman 3.2 (the template manager); older sites upgrade first.
FIRST_SUPPORTED = "fa0d96e28631"
TABLES = (
    "domain", "mailinglist", "user", "address", "preferences", "member", "ban",
    "headermatch", "pended", "pendedkeyvalue", "_request", "message", "template",
    "listarchiver", "acceptablealias", "contentfilter", "domain_owner",
)  # fmt: skip
_EPOCH = datetime(1970, 1, 1)


class Mailman3Error(PosthornError):
    """Not a GNU Mailman 3 database, a version this reader does not know, or unreachable."""


class MailmanDatabase:
    """The reflected tables of one Mailman 3 database, and one read-only connection."""

    def __init__(self, connection: Connection, revision: str) -> None:
        self.connection = connection
        self.revision = revision
        self.metadata = MetaData()
        names = set(inspect(connection).get_table_names())
        self.metadata.reflect(connection, only=[name for name in TABLES if name in names])
        self._rows: dict[str, list[dict[str, Any]]] = {}

    def table(self, name: str) -> Table | None:
        return self.metadata.tables.get(name)

    def rows(self, name: str) -> list[dict[str, Any]]:
        """Every row of a table as a dict (none where the table is missing), read once."""
        if name not in self._rows:
            table = self.table(name)
            self._rows[name] = []
            if table is not None:
                query = select(table).order_by(*table.primary_key)
                self._rows[name] = [dict(row._mapping) for row in self.connection.execute(query)]
        return self._rows[name]


def _read_only_url(url: str) -> Any:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise Mailman3Error(f"{url!r} is not a database URL") from None
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        # A URI with mode=ro: SQLite itself refuses every write, and never creates a file.
        return parsed.set(database=f"file:{parsed.database}?mode=ro", query={"uri": "true"})
    return parsed


@contextmanager
def open_mailman(url: str) -> Iterator[MailmanDatabase]:
    """The Mailman database at ``url``, read-only, checked to be a version we know."""
    try:
        engine = create_engine(_read_only_url(url))
    except (NoSuchModuleError, ImportError) as error:
        raise Mailman3Error(f"cannot open {url}: {error}") from None
    try:
        with engine.connect() as connection:
            revision = _revision(connection, url)
            try:
                yield MailmanDatabase(connection, revision)
            finally:
                connection.rollback()
    except OperationalError as error:
        raise Mailman3Error(
            f"cannot read {make_url(url).render_as_string()}: {error.orig}"
        ) from None
    finally:
        engine.dispose()


def _revision(connection: Connection, url: str) -> str:
    shown = make_url(url).render_as_string()
    names = set(inspect(connection).get_table_names())
    if "alembic_version" not in names or "mailinglist" not in names:
        raise Mailman3Error(
            f"{shown} is not a GNU Mailman 3 database (it has no alembic_version "
            "and mailinglist tables)"
        )
    table = Table("alembic_version", MetaData(), autoload_with=connection)
    found = [str(row[0]) for row in connection.execute(select(table.c.version_num))]
    if len(found) != 1 or found[0] not in REVISIONS:
        raise Mailman3Error(
            f"{shown}: unknown Mailman database version {', '.join(found) or '(none)'}; "
            "this importer reads GNU Mailman 3.2 and 3.3"
        )
    if REVISIONS.index(found[0]) < REVISIONS.index(FIRST_SUPPORTED):
        raise Mailman3Error(
            f"{shown}: a Mailman database older than 3.2 (revision {found[0]}); "
            "upgrade the old site to Mailman 3.3 first"
        )
    return found[0]


def as_utc(value: Any) -> datetime | None:
    """Mailman's naive UTC datetimes (strings on some backends) as aware ones."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime) or value.year < 1900:
        return None  # Mailman's "never" is datetime.min
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def as_uuid_hex(value: Any) -> str | None:
    """A Mailman UUID (a uuid.UUID, 32 hex digits, or dashed) as 32 lowercase hex digits."""
    if value is None:
        return None
    text = value.hex if hasattr(value, "hex") and not isinstance(value, (str, bytes)) else value
    return str(text).replace("-", "").lower().rjust(32, "0")


def duration(value: Any) -> str | None:
    """An Interval column (a timedelta, or a datetime after the epoch on SQLite) as ``14d``."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        value = value.replace(tzinfo=None) - _EPOCH
    if not isinstance(value, timedelta):
        return None
    seconds = int(value.total_seconds())
    return f"{seconds // 86400}d" if seconds % 86400 == 0 else f"{seconds}s"
