"""Delivery records in the database, for a site whose hosts share one PostgreSQL.

The same record as ``delivery.progress`` keeps in files (the recipients of a post
already served, those parked on ``dead``, whether the owners were told), as rows:
one per mark, named by the record's key (``progress.record_key``).  With several
hosts taking entries from shared queues, an entry redelivered to another host, or a
post redone by an earlier stage there, must find what the first host sent; a file on
the first host's disk cannot tell it.

While a record is open, the site lock ``delivery.KEY`` is held (``site_lock``), so
two entries for one post take turns, whatever their hosts.  Each mark is committed as
it is written: a kill of the runner loses none, and ``sync`` has nothing left to do.
Records whose last mark is older than ``record_age`` are pruned whole.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import ExitStack
from datetime import datetime, timedelta
from typing import Any, Self

from sqlalchemy import Index, String, Text, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from posthorn.delivery.progress import FileRecords, record_key
from posthorn.model.base import MessageBase, SessionFactory, UTCDateTime, utc_now
from posthorn.site_lock import SiteLocks

__all__ = ["DatabaseDeliveryRecord", "DatabaseRecords", "DeliveryRecordRow"]

DONE, PARKED, TOLD = "done", "parked", "told"
# Keys removed in one statement when pruning.
PRUNE_CHUNK = 500


class DeliveryRecordRow(MessageBase):
    __tablename__ = "delivery_records"
    __table_args__ = (Index(None, "record_key", "mark", "address", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_key: Mapped[str] = mapped_column(String(40))
    mark: Mapped[str] = mapped_column(String(8))
    address: Mapped[str] = mapped_column(Text())
    written_at: Mapped[datetime] = mapped_column(UTCDateTime())


def _insert_new(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert the rows, skipping those already there (a redone batch writes them again)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(dialect.insert(DeliveryRecordRow).on_conflict_do_nothing(), rows)


class DatabaseDeliveryRecord:
    """One post's record (``IDeliveryRecord``), locked site-wide while it is open."""

    def __init__(
        self, sessions: SessionFactory, locks: SiteLocks, list_id: str, audience: str,
        message_id: str,
    ) -> None:  # fmt: skip
        self.done: set[str] = set()
        self.parked: set[str] = set()
        self.told = False
        self._sessions = sessions
        self._held = ExitStack()
        self.key: str | None = None
        if not message_id.strip():
            return  # nothing names the post across entries: an in-memory record
        self.key = record_key(list_id, audience, message_id)
        self._held.enter_context(locks.hold(f"delivery.{self.key}", wait=True))
        try:
            self._load(self.key)
        except BaseException:
            self._held.close()
            raise

    def _load(self, key: str) -> None:
        query = select(DeliveryRecordRow.mark, DeliveryRecordRow.address).where(
            DeliveryRecordRow.record_key == key
        )
        with self._sessions() as session:
            for mark, address in session.execute(query):
                if mark == TOLD:
                    self.told = True
                elif mark == PARKED:
                    self.parked.add(address)
                else:
                    self.done.add(address)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def record(self, addresses: Iterable[str]) -> None:
        added = [a for a in addresses if a]
        self.done.update(added)
        self._write(DONE, added)

    def park(self, addresses: Iterable[str]) -> None:
        added = [a for a in addresses if a]
        self.parked.update(added)
        self._write(PARKED, added)

    def mark_told(self) -> None:
        self.told = True
        self._write(TOLD, [""])

    def sync(self) -> None:
        """Every mark was committed when written."""

    def close(self) -> None:
        self._held.close()

    def _write(self, mark: str, addresses: list[str]) -> None:
        if not addresses or self.key is None:
            return
        now = utc_now()
        rows = [{"record_key": self.key, "mark": mark, "address": a, "written_at": now}
                for a in addresses]  # fmt: skip
        with self._sessions() as session:
            _insert_new(session, rows)


class DatabaseRecords:
    """The site's records in its message database (``IDeliveryRecords``).

    ``earlier`` are the files the site kept its records in before: pruned with the
    rows, so they do not stay for ever after a move to the database.
    """

    def __init__(
        self, sessions: SessionFactory, locks: SiteLocks, earlier: FileRecords | None = None
    ) -> None:
        self._sessions = sessions
        self._locks = locks
        self._earlier = earlier

    def open(self, list_id: str, audience: str, message_id: str) -> DatabaseDeliveryRecord:
        return DatabaseDeliveryRecord(self._sessions, self._locks, list_id, audience, message_id)

    def prune(self, age: float, now: datetime | None = None) -> int:
        limit = (now or utc_now()) - timedelta(seconds=age)
        stale = (
            select(DeliveryRecordRow.record_key)
            .group_by(DeliveryRecordRow.record_key)
            .having(func.max(DeliveryRecordRow.written_at) < limit)
        )
        with self._sessions() as session:
            keys = list(session.scalars(stale))
            for start in range(0, len(keys), PRUNE_CHUNK):
                chunk = keys[start : start + PRUNE_CHUNK]
                session.execute(
                    delete(DeliveryRecordRow).where(DeliveryRecordRow.record_key.in_(chunk))
                )
        earlier = self._earlier.prune(age) if self._earlier is not None else 0
        return len(keys) + earlier
