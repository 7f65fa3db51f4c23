"""The three slices' declarative bases, and the column types and helpers they share.

Each slice (user, list, message) has its own MetaData so that it can live in its own
database: no foreign key, query or migration ever crosses from one to another.  The
naming convention gives every index and constraint a predictable name, so the
hand-written migrations and the models can be compared exactly.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Self

from sqlalchemy import DateTime, Dialect, Engine, MetaData, Select
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.types import TypeDecorator

if TYPE_CHECKING:
    from posthorn.site import Site

__all__ = [
    "SLICES",
    "ListBase",
    "ListSliceManager",
    "MessageBase",
    "SessionFactory",
    "UTCDateTime",
    "UserBase",
    "new_id",
    "page",
    "utc_now",
]

SLICES = ("user", "list", "message")

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UserBase(DeclarativeBase):
    """Users, addresses."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ListBase(DeclarativeBase):
    """Domains, lists and their settings, members, pendings."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class MessageBase(DeclarativeBase):
    """The message store, held messages, and what every host reads of the runners' state."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    """A user or member id: 32 lowercase hex digits, as Mailman's REST API 3.1 uses."""
    return uuid.uuid4().hex


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every backend.

    SQLite has no time zones and returns naive values; storing naive UTC there and
    re-attaching UTC on the way out keeps comparisons with ``utc_now()`` correct.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: Posthorn stores UTC only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


SessionFactory = Callable[[], AbstractContextManager[Session]]
"""What a manager gets from the site: ``with factory() as session`` commits on success."""


def page(query: Select[Any], offset: int, limit: int | None) -> Select[Any]:
    """Apply REST-style paging; a negative offset or limit is a caller's bug."""
    if offset < 0 or (limit is not None and limit < 0):
        raise ValueError("offset and limit cannot be negative")
    query = query.offset(offset) if offset else query
    return query.limit(limit) if limit is not None else query


class ListSliceManager:
    """Base of the managers kept in the list slice and read for every post.

    Writes go through ORM sessions; the per-post reads use one statement on a pooled
    connection in autocommit mode, since a session's set-up, BEGIN and COMMIT cost more
    than the query itself (three round trips instead of one on PostgreSQL).
    """

    def __init__(self, session: SessionFactory, engine: Engine) -> None:
        self._session = session
        self._engine = engine.execution_options(isolation_level="AUTOCOMMIT")

    @classmethod
    def from_site(cls, site: Site) -> Self:
        databases = site.databases
        return cls(databases.session_factory("list"), databases.engine("list"))
