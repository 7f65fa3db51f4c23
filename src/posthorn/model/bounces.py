"""Per-member bounce state, in the list slice beside the memberships it scores.

A row names its list by list-id and its member by email, like a member row, and has
no foreign key: deleting a member leaves at most a stale row that the bounce runner
removes when it unsubscribes the member, and ``forget`` clears by hand.  Rows are only
created once an address bounces, so a list with no bounces has none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Self

from sqlalchemy import Index, Select, String, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from posthorn.model.base import ListBase, SessionFactory, UTCDateTime

__all__ = ["BounceRecords", "BounceState", "BounceStateRow"]


class BounceStateRow(ListBase):
    __tablename__ = "bounce_state"
    __table_args__ = (Index(None, "list_id", "email", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[str] = mapped_column(String(255))
    email: Mapped[str] = mapped_column(String(254))
    score: Mapped[int] = mapped_column(default=0)
    last_bounce: Mapped[datetime | None] = mapped_column(UTCDateTime())
    warnings_sent: Mapped[int] = mapped_column(default=0)
    last_warning: Mapped[datetime | None] = mapped_column(UTCDateTime())


@dataclass(frozen=True)
class BounceState:
    """One member's bounce record; ``score`` counts days with bounces, not bounces."""

    list_id: str
    email: str
    score: int = 0
    last_bounce: datetime | None = None
    warnings_sent: int = 0
    last_warning: datetime | None = None

    @classmethod
    def of(cls, row: BounceStateRow) -> Self:
        return cls(
            row.list_id, row.email, row.score, row.last_bounce, row.warnings_sent, row.last_warning
        )


class BounceRecords:
    """Reads and writes bounce state; every method is one short transaction."""

    def __init__(self, session: SessionFactory) -> None:
        self._session = session

    def get(self, list_id: str, email: str) -> BounceState:
        """The stored state, or a fresh zero state for an address that never bounced."""
        with self._session() as session:
            row = session.scalar(self._query(list_id, email))
            return BounceState(list_id, email.lower()) if row is None else BounceState.of(row)

    def save(self, state: BounceState) -> None:
        with self._session() as session:
            row = session.scalar(self._query(state.list_id, state.email))
            if row is None:
                row = BounceStateRow(list_id=state.list_id, email=state.email.lower())
                session.add(row)
            row.score = state.score
            row.last_bounce = state.last_bounce
            row.warnings_sent = state.warnings_sent
            row.last_warning = state.last_warning

    def forget(self, list_id: str, email: str) -> None:
        with self._session() as session:
            session.execute(
                delete(BounceStateRow).where(
                    BounceStateRow.list_id == list_id, BounceStateRow.email == email.lower()
                )
            )

    def for_list(self, list_id: str) -> list[BounceState]:
        query = select(BounceStateRow).where(BounceStateRow.list_id == list_id)
        with self._session() as session:
            return [BounceState.of(row) for row in session.scalars(query.order_by("email"))]

    def prune(self, list_id: str, before: datetime, threshold: int) -> int:
        """Remove stale rows: last bounce before ``before``, below ``threshold``, never warned.

        A member disabled for bouncing (score at the threshold, or warned) keeps its row:
        the bounce runner's sweep still has to warn or remove it.
        """
        with self._session() as session:
            result = session.execute(
                delete(BounceStateRow).where(
                    BounceStateRow.list_id == list_id,
                    BounceStateRow.warnings_sent == 0,
                    BounceStateRow.score < threshold,
                    BounceStateRow.last_bounce < before,
                )
            )
            return int(getattr(result, "rowcount", 0))

    @staticmethod
    def _query(list_id: str, email: str) -> Select[BounceStateRow]:
        return select(BounceStateRow).where(
            BounceStateRow.list_id == list_id, BounceStateRow.email == email.lower()
        )
