"""Pending confirmations: the list manager's pendings part.

A pending request (a subscription waiting for the subscriber's confirmation, an
unsubscription waiting for a moderator...) is JSON data under a random, url-safe token
that expires.  An expired token behaves exactly like an unknown one, so a stale
confirmation link can never act, whether or not eviction has run yet.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any, Self

from sqlalchemy import JSON, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from posthorn.model.base import ListBase, SessionFactory, UTCDateTime, utc_now

__all__ = ["Pending", "PendingRow", "Pendings"]


class PendingRow(ListBase):
    __tablename__ = "pendings"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), index=True, unique=True)
    type: Mapped[str] = mapped_column(String(64))
    list_id: Mapped[str | None] = mapped_column(String(255), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_on: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_on: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


@dataclass(frozen=True)
class Pending:
    token: str
    type: str
    list_id: str | None
    data: Mapping[str, Any] = field(hash=False)
    created_on: datetime
    expires_on: datetime

    @classmethod
    def of(cls, row: PendingRow) -> Self:
        return cls(
            row.token,
            row.type,
            row.list_id,
            MappingProxyType(dict(row.data)),
            row.created_on,
            row.expires_on,
        )


class Pendings:
    """The pendings part of the list manager (see IListManager for the contract)."""

    def __init__(self, session: SessionFactory, *, clock: Callable[[], datetime] = utc_now):
        self._session = session
        self._now = clock

    def add_pending(
        self,
        type: str,
        data: Mapping[str, Any],
        lifetime: timedelta,
        *,
        list_id: str | None = None,
    ) -> str:
        # 20 random bytes as lowercase hex: unguessable; safe in a URL, a subject and
        # an address local part (MTAs may fold case; `-confirm+TOKEN` stays within 64
        # octets); and never starting with "-", which a command line reads as an option.
        token = secrets.token_hex(20)
        now = self._now()
        with self._session() as session:
            session.add(
                PendingRow(
                    token=token,
                    type=type,
                    list_id=list_id,
                    data=dict(data),
                    created_on=now,
                    expires_on=now + lifetime,
                )
            )
        return token

    def _live(self, session: Session, token: str) -> PendingRow | None:
        query = select(PendingRow).where(
            PendingRow.token == token, PendingRow.expires_on > self._now()
        )
        return session.scalar(query)

    def get_pending(self, token: str) -> Pending | None:
        with self._session() as session:
            row = self._live(session, token)
            return None if row is None else Pending.of(row)

    def confirm(self, token: str) -> Pending | None:
        with self._session() as session:
            row = self._live(session, token)
            if row is None:
                return None
            pending = Pending.of(row)
            # Delete by token and count: of two racing confirmations only one wins.
            result = session.execute(delete(PendingRow).where(PendingRow.token == token))
            return pending if getattr(result, "rowcount", 1) == 1 else None

    def pendings(self, *, type: str | None = None, list_id: str | None = None) -> list[Pending]:
        query = select(PendingRow).where(PendingRow.expires_on > self._now())
        if type is not None:
            query = query.where(PendingRow.type == type)
        if list_id is not None:
            query = query.where(PendingRow.list_id == list_id)
        with self._session() as session:
            rows = session.scalars(query.order_by(PendingRow.created_on, PendingRow.id))
            return [Pending.of(row) for row in rows]

    def evict_expired(self) -> int:
        with self._session() as session:
            result = session.execute(delete(PendingRow).where(PendingRow.expires_on <= self._now()))
            return int(getattr(result, "rowcount", 0))

    def forget(self, session: Session, list_id: str) -> None:
        """Drop a list's pendings (the list is being deleted)."""
        session.execute(delete(PendingRow).where(PendingRow.list_id == list_id))
