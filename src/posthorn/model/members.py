"""Member rows, their ``Member`` snapshots, and rosters.

A member row names its list by the list-id string and its address by the lowercased
email: no key into another table.  Rosters are queries returning frozen ``Member``
snapshots; nothing depends on them being rows.  The list manager's memberships part,
which writes the rows, is ``memberships.py``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self, cast

from sqlalchemy import JSON, Index, Row, Select, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from posthorn.interfaces.lists import Action, DeliveryMode, DeliveryStatus, Role
from posthorn.model.base import ListBase, SessionFactory, UTCDateTime

__all__ = [
    "SNAPSHOT_COLUMNS",
    "DatabaseRoster",
    "Member",
    "MemberRow",
    "fast_member",
    "forget",
    "snapshots",
]

_DIGEST_MODES = ("plaintext_digests", "mime_digests", "summary_digests")


class MemberRow(ListBase):
    __tablename__ = "members"
    __table_args__ = (Index(None, "list_id", "email", "role", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[str] = mapped_column(String(32), index=True, unique=True)
    # The list by its list-id and the address by its email: no key into another table.
    list_id: Mapped[str] = mapped_column(String(255))
    email: Mapped[str] = mapped_column(String(254), index=True)
    display_name: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    moderation_action: Mapped[str | None] = mapped_column(String(16))
    delivery_mode: Mapped[str] = mapped_column(String(32), default="regular")
    delivery_status: Mapped[str] = mapped_column(String(32), default="enabled")
    user_id: Mapped[str | None] = mapped_column(String(32), index=True)
    subscribed_on: Mapped[datetime] = mapped_column(UTCDateTime())
    # The preferences set on this membership other than its delivery mode and status
    # (see posthorn.preferences); None when none is.
    preferences: Mapped[dict[str, Any] | None] = mapped_column(JSON)


@dataclass(frozen=True)
class Member:
    member_id: str
    list_id: str
    email: str
    display_name: str | None
    role: Role
    moderation_action: Action | None
    delivery_mode: DeliveryMode
    delivery_status: DeliveryStatus
    user_id: str | None
    subscribed_on: datetime

    @classmethod
    def of(cls, row: MemberRow | Row[Any]) -> Self:
        return cls(
            row.member_id,
            row.list_id,
            row.email,
            row.display_name,
            cast(Role, row.role),
            cast("Action | None", row.moderation_action),
            cast(DeliveryMode, row.delivery_mode),
            cast(DeliveryStatus, row.delivery_status),
            row.user_id,
            row.subscribed_on,
        )


_FIELDS = tuple(field.name for field in dataclasses.fields(Member))
# The columns a snapshot is made of, in the order of its fields.
SNAPSHOT_COLUMNS = tuple(MemberRow.__table__.columns[f] for f in _FIELDS)


def snapshots(session: Session, query: Select[Any]) -> list[Member]:
    """Members from a query on MemberRow, read as plain rows.

    Rosters are read in bulk (a 1,000-member page); plain rows skip building and
    tracking an ORM object per member, which costs more than the query itself.  The
    query runs on the session's connection, as a Core statement: it names only table
    columns, so the ORM's compile and execute layers would add cost and nothing else.
    """
    plain = query.with_only_columns(*SNAPSHOT_COLUMNS)
    return [fast_member(row) for row in session.connection().execute(plain)]


def fast_member(row: Row[Any]) -> Member:
    """``Member.of`` without the frozen dataclass's per-field ``object.__setattr__``.

    Same object, same fields (they are the row's columns in the same order), built at
    a quarter of the cost; the values come straight from a checked row.
    """
    member = object.__new__(Member)
    member.__dict__.update(zip(_FIELDS, row, strict=True))
    return member


class DatabaseRoster:
    """IRoster for one list: each property runs its query when read."""

    def __init__(self, session: SessionFactory, list_id: str) -> None:
        self._session = session
        self.list_id = list_id

    def _select(self, query: Select[Any]) -> list[Member]:
        query = query.where(MemberRow.list_id == self.list_id).order_by(MemberRow.email)
        with self._session() as session:
            return snapshots(session, query)

    def _role(self, *roles: str) -> list[Member]:
        return self._select(select(MemberRow).where(MemberRow.role.in_(roles)))

    @property
    def members(self) -> list[Member]:
        return self._role("member")

    @property
    def regular_members(self) -> list[Member]:
        query = select(MemberRow).where(MemberRow.role == "member")
        return self._select(query.where(MemberRow.delivery_mode == "regular"))

    @property
    def digest_members(self) -> list[Member]:
        query = select(MemberRow).where(MemberRow.role == "member")
        return self._select(query.where(MemberRow.delivery_mode.in_(_DIGEST_MODES)))

    @property
    def owners(self) -> list[Member]:
        return self._role("owner")

    @property
    def moderators(self) -> list[Member]:
        return self._role("moderator")

    @property
    def administrators(self) -> list[Member]:
        return self._role("owner", "moderator")

    @property
    def nonmembers(self) -> list[Member]:
        return self._role("nonmember")

    def addresses(self, modes: Collection[str], size: int) -> Iterator[list[str]]:
        """The emails of the members with delivery enabled in ``modes``, ``size`` at a time.

        Read by email from where the last chunk ended, each chunk in a session of its
        own: a post to a large list holds neither every member in memory nor one read
        transaction open for the length of its delivery, and costs one statement per
        chunk, not per member.  The unique index on (list, email, role) gives each
        chunk as a range, with no sort of the roster.  A member who joins mid-delivery
        gets the post if their address sorts after the chunk being sent.
        """
        query = select(MemberRow.email).where(
            MemberRow.list_id == self.list_id,
            MemberRow.role == "member",
            MemberRow.delivery_mode.in_(tuple(modes)),
            MemberRow.delivery_status == "enabled",
        )
        last = ""
        while True:
            with self._session() as session:
                # ``all()``: fetched together, not a row at a time (a third of the cost).
                chunk = list(
                    session.connection()
                    .scalars(
                        query.where(MemberRow.email > last).order_by(MemberRow.email).limit(size)
                    )
                    .all()
                )
            if not chunk:
                return
            last = chunk[-1]
            yield chunk
            if len(chunk) < size:
                return

    def get_member(self, email: str, role: Role = "member") -> Member | None:
        query = select(MemberRow).where(MemberRow.email == email.lower(), MemberRow.role == role)
        found = self._select(query)
        return found[0] if found else None


def forget(session: Session, list_id: str) -> None:
    """Drop a list's memberships (the list is being deleted)."""
    session.execute(delete(MemberRow).where(MemberRow.list_id == list_id))
