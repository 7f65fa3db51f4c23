"""Template URIs in the list slice: one row per template name and context.

The context is a list-id, a mail host or, for the site, the empty string (so one
unique index keeps each name single per context; a NULL would not).  The names are
Mailman's (``list:user:notice:welcome``); ``TEMPLATE_NAMES`` lists them and which
contexts may hold each, as Mailman's REST API allows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self

from sqlalchemy import Index, Select, String, Text, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from posthorn.model.base import ListBase, ListSliceManager

if TYPE_CHECKING:
    pass

__all__ = [
    "TEMPLATE_NAMES",
    "DatabaseTemplateUris",
    "TemplateUri",
    "TemplateUriRow",
    "forget",
]

SITE = ""

# Every template a front end may point elsewhere.  A list may hold the list: names, a
# domain the list: and domain: names, the site all of them.
TEMPLATE_NAMES = (
    "domain:admin:notice:new-list",
    "list:admin:action:post",
    "list:admin:action:subscribe",
    "list:admin:action:unsubscribe",
    "list:admin:notice:disable",
    "list:admin:notice:increment",
    "list:admin:notice:pending",
    "list:admin:notice:removal",
    "list:admin:notice:subscribe",
    "list:admin:notice:unrecognized",
    "list:admin:notice:unsubscribe",
    "list:member:digest:footer",
    "list:member:digest:header",
    "list:member:digest:masthead",
    "list:member:regular:footer",
    "list:member:regular:header",
    "list:user:action:invite",
    "list:user:action:subscribe",
    "list:user:action:unsubscribe",
    "list:user:notice:goodbye",
    "list:user:notice:hold",
    "list:user:notice:no-more-today",
    "list:user:notice:post",
    "list:user:notice:probe",
    "list:user:notice:refuse",
    "list:user:notice:rejected",
    "list:user:notice:warning",
    "list:user:notice:welcome",
)


class TemplateUriRow(ListBase):
    __tablename__ = "template_uris"
    __table_args__ = (Index("ix_template_uris_context_name", "context", "name", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    # A list-id, a mail host, or "" for the site.
    context: Mapped[str] = mapped_column(String(255))
    uri: Mapped[str] = mapped_column(Text)
    username: Mapped[str | None] = mapped_column(String(255))
    password: Mapped[str | None] = mapped_column(String(255))


@dataclass(frozen=True)
class TemplateUri:
    name: str
    context: str | None
    uri: str
    username: str | None = None
    password: str | None = None

    @classmethod
    def of(cls, row: TemplateUriRow) -> Self:
        return cls(row.name, row.context or None, row.uri, row.username, row.password)


class DatabaseTemplateUris(ListSliceManager):
    """ITemplateUris over the list slice (posthorn.interfaces.template_uris)."""

    def lookup(
        self, names: Sequence[str], contexts: Sequence[str | None]
    ) -> dict[str, TemplateUri]:
        """For each name, the URI of the first context (in the order given) that has one."""
        wanted = [context or SITE for context in contexts]
        query = select(TemplateUriRow.__table__).where(
            TemplateUriRow.name.in_(list(names)), TemplateUriRow.context.in_(wanted)
        )
        with self._engine.connect() as connection:
            rows = connection.execute(query).all()
        found: dict[str, TemplateUri] = {}
        for row in sorted(rows, key=lambda row: wanted.index(row.context), reverse=True):
            found[row.name] = TemplateUri(
                row.name, row.context or None, row.uri, row.username, row.password
            )
        return found

    def set(
        self,
        name: str,
        context: str | None,
        uri: str,
        username: str | None = None,
        password: str | None = None,
    ) -> TemplateUri:
        with self._session() as session:
            row = session.scalar(self._query(name, context))
            if row is None:
                row = TemplateUriRow(name=name, context=context or SITE)
                session.add(row)
            row.uri, row.username, row.password = uri, username, password
            session.flush()
            return TemplateUri.of(row)

    @staticmethod
    def _query(name: str, context: str | None) -> Select[Any]:
        return select(TemplateUriRow).where(
            TemplateUriRow.context == (context or SITE), TemplateUriRow.name == name
        )

    def get(self, name: str, context: str | None) -> TemplateUri | None:
        with self._session() as session:
            row = session.scalar(self._query(name, context))
            return None if row is None else TemplateUri.of(row)

    def of(self, context: str | None) -> Sequence[TemplateUri]:
        query = select(TemplateUriRow).where(TemplateUriRow.context == (context or SITE))
        query = query.order_by(TemplateUriRow.name)
        with self._session() as session:
            return [TemplateUri.of(row) for row in session.scalars(query)]

    def delete(self, name: str, context: str | None) -> bool:
        with self._session() as session:
            row = session.scalar(self._query(name, context))
            if row is None:
                return False
            session.delete(row)
            return True

    def forget(self, context: str) -> None:
        with self._session() as session:
            forget(session, context)


def forget(session: Session, context: str) -> None:
    """Drop a list's or domain's URIs (it is being deleted), in the caller's transaction."""
    if context:
        session.execute(delete(TemplateUriRow).where(TemplateUriRow.context == context))
