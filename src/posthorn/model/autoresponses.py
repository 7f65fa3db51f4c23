"""When a list last answered an address automatically: one answer per grace period.

A row per list, address and kind (``owner``, ``postings``, ``requests``, the three
``autorespond_*`` settings) with the date of the last answer, as Mailman keeps it.
Rows name their list by list-id, with no foreign key, like member rows; the task
runner prunes rows older than the list's grace period.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Index, String, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from posthorn.model.base import ListBase, SessionFactory

__all__ = ["AutoResponseRecords", "AutoResponseRow", "forget"]


class AutoResponseRow(ListBase):
    __tablename__ = "autoresponses"
    __table_args__ = (Index(None, "list_id", "email", "kind", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[str] = mapped_column(String(255))
    email: Mapped[str] = mapped_column(String(254))
    kind: Mapped[str] = mapped_column(String(16))
    date_sent: Mapped[date] = mapped_column(Date())


class AutoResponseRecords:
    """Reads and writes the dates; every method is one short transaction."""

    def __init__(self, session: SessionFactory) -> None:
        self._session = session

    def claim(self, list_id: str, email: str, kind: str, today: date, since: date) -> bool:
        """Record an answer sent ``today`` unless one was sent on or after ``since``.

        True when the caller is to answer.  The row is locked while checked, so two
        runners answering the same sender at once answer once.
        """
        query = select(AutoResponseRow).where(
            AutoResponseRow.list_id == list_id,
            AutoResponseRow.email == email.lower(),
            AutoResponseRow.kind == kind,
        )
        try:
            with self._session() as session:
                row = session.scalar(query.with_for_update())
                if row is None:
                    session.add(AutoResponseRow(list_id=list_id, email=email.lower(), kind=kind,
                                                date_sent=today))  # fmt: skip
                elif row.date_sent >= since:
                    return False
                else:
                    row.date_sent = today
        except IntegrityError:
            return False  # another runner recorded its answer first
        return True

    def last(self, list_id: str, email: str, kind: str) -> date | None:
        query = select(AutoResponseRow.date_sent).where(
            AutoResponseRow.list_id == list_id,
            AutoResponseRow.email == email.lower(),
            AutoResponseRow.kind == kind,
        )
        with self._session() as session:
            return session.scalar(query)

    def prune(self, list_id: str, before: date) -> int:
        """Remove the rows of answers sent before ``before``; how many."""
        with self._session() as session:
            result = session.execute(
                delete(AutoResponseRow).where(
                    AutoResponseRow.list_id == list_id, AutoResponseRow.date_sent < before
                )
            )
            return int(getattr(result, "rowcount", 0))


def forget(session: Session, list_id: str) -> None:
    """Drop a list's records (the list is being deleted)."""
    session.execute(delete(AutoResponseRow).where(AutoResponseRow.list_id == list_id))
