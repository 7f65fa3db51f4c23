"""Bans in the list slice: one row per banned address or ``^pattern``, per list or site.

Rows name their list by list-id, with no foreign key, like member rows; a site-wide ban
has the empty list-id, so one unique index keeps every ban single (a NULL would not).
Checking an address is one indexed statement that fetches the exact bans of that address
and the pattern bans of the list and the site (patterns are few, addresses many), so
its cost does not grow with the number of plain address bans.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Self, cast

from sqlalchemy import Index, String, Table, bindparam, delete, func, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from posthorn.address import normalize_email
from posthorn.errors import DuplicateBanError, InvalidAddressError, InvalidBanError, NoSuchBanError
from posthorn.model.base import ListBase, ListSliceManager, page

if TYPE_CHECKING:
    pass

__all__ = ["Ban", "BanRow", "DatabaseBanManager", "forget", "normalize_ban"]

SITE = ""


class BanRow(ListBase):
    __tablename__ = "bans"
    __table_args__ = (
        Index("ix_bans_list_id_email", "list_id", "email", unique=True),
        Index("ix_bans_is_pattern_list_id", "is_pattern", "list_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The list-id, or "" for the whole site.
    list_id: Mapped[str] = mapped_column(String(255))
    email: Mapped[str] = mapped_column(String(255))
    is_pattern: Mapped[bool] = mapped_column()


@dataclass(frozen=True)
class Ban:
    email: str
    list_id: str | None

    @classmethod
    def of(cls, row: BanRow) -> Self:
        return cls(row.email, row.list_id or None)


_BANS = cast(Table, BanRow.__table__)
# Built once: it runs for every post and every subscription.
_CHECK = select(_BANS.c.email, _BANS.c.is_pattern).where(
    _BANS.c.list_id.in_([bindparam("list_id"), SITE]),
    or_(_BANS.c.email == bindparam("email"), _BANS.c.is_pattern),
)


@lru_cache(maxsize=4096)
def _compiled(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error:
        return None


def normalize_ban(email: str) -> str:
    """The stored form: a pattern as given (it must compile), an address lowercased."""
    email = email.strip()
    if email.startswith("^"):
        if _compiled(email) is None:
            raise InvalidBanError(f"not a valid regular expression: {email}")
        return email
    try:
        return normalize_email(email).lower()
    except InvalidAddressError:
        raise InvalidBanError(f"not an email address or a ^pattern: {email}") from None


class DatabaseBanManager(ListSliceManager):
    """IBanManager over the list slice (see posthorn.interfaces.bans for the contract)."""

    def ban(self, email: str, list_id: str | None = None) -> Ban:
        stored = normalize_ban(email)
        with self._session() as session:
            if self._find(session, stored, list_id) is not None:
                raise DuplicateBanError(f"Address is already banned: {stored}")
            row = BanRow(list_id=list_id or SITE, email=stored, is_pattern=stored.startswith("^"))
            session.add(row)
            session.flush()
            return Ban.of(row)

    def _find(self, session: Session, email: str, list_id: str | None) -> BanRow | None:
        query = select(BanRow).where(BanRow.list_id == (list_id or SITE), BanRow.email == email)
        return session.scalar(query)

    def unban(self, email: str, list_id: str | None = None) -> None:
        email = email.strip()
        stored = email if email.startswith("^") else email.lower()
        with self._session() as session:
            row = self._find(session, stored, list_id)
            if row is None:
                raise NoSuchBanError(f"Email is not banned: {email}")
            session.delete(row)

    def is_banned(self, email: str, list_id: str | None = None) -> bool:
        address = email.strip().lower()
        params = {"list_id": list_id or SITE, "email": address}
        with self._engine.connect() as connection:
            rows = connection.execute(_CHECK, params).all()
        for stored, is_pattern in rows:
            # A pattern asked about as itself is banned too (REST checks a ban that way).
            if not is_pattern or stored == email.strip():
                return True
            compiled = _compiled(stored)
            if compiled is not None and compiled.match(address):
                return True
        return False

    def bans(
        self, list_id: str | None = None, *, offset: int = 0, limit: int | None = None
    ) -> Sequence[Ban]:
        query = select(BanRow).where(BanRow.list_id == (list_id or SITE)).order_by(BanRow.email)
        with self._session() as session:
            return [Ban.of(row) for row in session.scalars(page(query, offset, limit))]

    def count(self, list_id: str | None = None) -> int:
        query = select(func.count(BanRow.id)).where(BanRow.list_id == (list_id or SITE))
        with self._session() as session:
            return int(session.scalar(query) or 0)

    def forget_list(self, list_id: str) -> None:
        with self._session() as session:
            forget(session, list_id)


def forget(session: Session, list_id: str) -> None:
    """Drop a list's bans (the list is being deleted), in the caller's transaction."""
    if list_id:
        session.execute(delete(BanRow).where(BanRow.list_id == list_id))
