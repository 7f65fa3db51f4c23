"""Header matches in the list slice: one row per check, ordered by position per list.

Positions run 0..n-1 with no gaps: adding appends, removing closes the gap, moving one
shifts those in between, all in one transaction.  Rows name their list by list-id, with
no foreign key, like member rows.  Headers are stored lowercased (header names are
case-insensitive); a header and pattern appear at most once per list.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self, cast

from sqlalchemy import Index, String, Table, Text, bindparam, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from posthorn.errors import (
    DuplicateHeaderMatchError,
    InvalidHeaderMatchError,
    NoSuchHeaderMatchError,
)
from posthorn.interfaces.header_matches import HEADER_MATCH_ACTIONS
from posthorn.model.base import ListBase, ListSliceManager

if TYPE_CHECKING:
    pass

__all__ = ["DatabaseHeaderMatches", "HeaderMatch", "HeaderMatchRow", "forget"]


class HeaderMatchRow(ListBase):
    __tablename__ = "header_matches"
    __table_args__ = (Index("ix_header_matches_list_id_position", "list_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[str] = mapped_column(String(255))
    position: Mapped[int] = mapped_column()
    header: Mapped[str] = mapped_column(String(255))
    pattern: Mapped[str] = mapped_column(Text)
    # The chain a hit goes to; None: the header-match rule's own action.
    chain: Mapped[str | None] = mapped_column(String(64))
    tag: Mapped[str | None] = mapped_column(String(255))


@dataclass(frozen=True)
class HeaderMatch:
    list_id: str
    position: int
    header: str
    pattern: str
    chain: str | None = None
    tag: str | None = None

    @classmethod
    def of(cls, row: HeaderMatchRow) -> Self:
        return cls(row.list_id, row.position, row.header, row.pattern, row.chain, row.tag)


_TABLE = cast(Table, HeaderMatchRow.__table__)
_OF = (
    select(_TABLE.c.position, _TABLE.c.header, _TABLE.c.pattern, _TABLE.c.chain, _TABLE.c.tag)
    .where(_TABLE.c.list_id == bindparam("list_id"))
    .order_by(_TABLE.c.position)
)


def _checked(fields: dict[str, Any]) -> dict[str, Any]:
    """The fields as stored; InvalidHeaderMatchError naming the bad one."""
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if name == "header":
            value = str(value).strip().lower()
            if not value or ":" in value or any(c.isspace() for c in value):
                raise InvalidHeaderMatchError(f"not a header name: {value!r}")
        elif name == "pattern":
            try:
                re.compile(str(value), re.IGNORECASE)
            except re.error as error:
                raise InvalidHeaderMatchError(f"invalid pattern {value!r}: {error}") from None
        elif name == "chain":
            value = value or None
            if value is not None and value not in HEADER_MATCH_ACTIONS:
                choices = ", ".join(HEADER_MATCH_ACTIONS)
                raise InvalidHeaderMatchError(f"the action must be one of: {choices}")
        elif name == "tag":
            value = (str(value).strip() or None) if value is not None else None
        elif name != "position":
            raise InvalidHeaderMatchError(f"a header match has no field {name!r}")
        out[name] = value
    return out


class DatabaseHeaderMatches(ListSliceManager):
    """IHeaderMatches over the list slice (posthorn.interfaces.header_matches)."""

    @staticmethod
    def _rows(session: Session, list_id: str) -> list[HeaderMatchRow]:
        query = select(HeaderMatchRow).where(HeaderMatchRow.list_id == list_id)
        return list(session.scalars(query.order_by(HeaderMatchRow.position)))

    def of(self, list_id: str) -> Sequence[HeaderMatch]:
        # Plain rows, not ORM objects: the header-match rule reads these for every post.
        with self._engine.connect() as connection:
            rows = connection.execute(_OF, {"list_id": list_id}).all()
        return [HeaderMatch(list_id, *row) for row in rows]

    def _row(self, session: Session, list_id: str, position: int) -> HeaderMatchRow:
        row = session.scalar(
            select(HeaderMatchRow).where(
                HeaderMatchRow.list_id == list_id, HeaderMatchRow.position == position
            )
        )
        if row is None:
            raise NoSuchHeaderMatchError(f"No header match at this position: {position}")
        return row

    def get(self, list_id: str, position: int) -> HeaderMatch:
        with self._session() as session:
            return HeaderMatch.of(self._row(session, list_id, position))

    @staticmethod
    def _refuse_duplicate(
        rows: Sequence[HeaderMatchRow], header: str, pattern: str, but: HeaderMatchRow | None
    ) -> None:
        for row in rows:
            if row is not but and row.header == header and row.pattern == pattern:
                raise DuplicateHeaderMatchError("This header match already exists")

    def append(
        self,
        list_id: str,
        header: str,
        pattern: str,
        chain: str | None = None,
        tag: str | None = None,
    ) -> HeaderMatch:
        fields = _checked({"header": header, "pattern": pattern, "chain": chain, "tag": tag})
        with self._session() as session:
            rows = self._rows(session, list_id)
            self._refuse_duplicate(rows, fields["header"], fields["pattern"], None)
            row = HeaderMatchRow(list_id=list_id, position=len(rows), **fields)
            session.add(row)
            session.flush()
            return HeaderMatch.of(row)

    def change(self, list_id: str, position: int, /, **fields: object) -> HeaderMatch:
        checked = _checked(dict(fields))
        with self._session() as session:
            rows = self._rows(session, list_id)
            row = self._row(session, list_id, position)
            header = checked.get("header", row.header)
            pattern = checked.get("pattern", row.pattern)
            self._refuse_duplicate(rows, header, pattern, row)
            new_position = checked.pop("position", None)
            for name, value in checked.items():
                setattr(row, name, value)
            if new_position is not None and new_position != row.position:
                self._move(rows, row, int(new_position))
            session.flush()
            return HeaderMatch.of(row)

    @staticmethod
    def _move(rows: list[HeaderMatchRow], row: HeaderMatchRow, position: int) -> None:
        if not 0 <= position < len(rows):
            raise InvalidHeaderMatchError(
                f"There are {len(rows)} header matches for this list, "
                f"the position must be from 0 to {len(rows) - 1}"
            )
        rows.remove(row)
        rows.insert(position, row)
        for index, each in enumerate(rows):
            each.position = index

    def remove(self, list_id: str, position: int) -> None:
        with self._session() as session:
            row = self._row(session, list_id, position)
            session.delete(row)
            session.flush()
            for index, each in enumerate(self._rows(session, list_id)):
                each.position = index

    def clear(self, list_id: str) -> None:
        with self._session() as session:
            forget(session, list_id)

    def count(self, list_id: str) -> int:
        query = select(func.count(HeaderMatchRow.id)).where(HeaderMatchRow.list_id == list_id)
        with self._session() as session:
            return int(session.scalar(query) or 0)

    def find(
        self,
        list_id: str,
        *,
        header: str | None = None,
        chain: str | None = None,
        tag: str | None = None,
    ) -> Sequence[HeaderMatch]:
        query = select(HeaderMatchRow).where(HeaderMatchRow.list_id == list_id)
        if header:
            query = query.where(HeaderMatchRow.header == header.strip().lower())
        if chain:
            query = query.where(HeaderMatchRow.chain == chain)
        if tag:
            query = query.where(HeaderMatchRow.tag == tag.strip())
        with self._session() as session:
            rows = session.scalars(query.order_by(HeaderMatchRow.position))
            return [HeaderMatch.of(row) for row in rows]


def forget(session: Session, list_id: str) -> None:
    """Drop a list's header matches (the list is being deleted), in the caller's transaction."""
    session.execute(delete(HeaderMatchRow).where(HeaderMatchRow.list_id == list_id))
