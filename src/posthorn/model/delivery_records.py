"""Delivery records in the database, for a site whose hosts share one PostgreSQL.

The same record as ``delivery.progress`` keeps in files (the recipients of a post
already served, those parked on ``dead``, whether the owners were told), as rows:
one per mark, named by the record's key (``progress.record_key``).  With several
hosts taking entries from shared queues, an entry redelivered to another host, or a
post redone by an earlier stage there, must find what the first host sent; a file on
the first host's disk cannot tell it.

While a record is open, the site lock ``delivery.KEY`` is held (``site_lock``), so
two entries for one post take turns, whatever their hosts, and every statement of the
record goes on the lock's own connection, in autocommit: one round trip each, where a
session of its own cost four (set-up, BEGIN, the statement, COMMIT).  Parked and told
marks are committed as they are made; done marks in groups (``WRITE_ROWS``,
``WRITE_AFTER``), and always before the record closes, without waiting for the
server's disk (see ``_INSERT_QUICK``); ``sync``, before an entry leaves for ``dead`` or
``shunt``, waits for it.  Records whose last mark is older than ``record_age`` are
pruned whole.  PostgreSQL only: a site on SQLite is one host and keeps its records in
files.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from contextlib import ExitStack
from datetime import datetime, timedelta
from typing import Self

from sqlalchemy import Connection, Index, String, Text, delete, func, select, text
from sqlalchemy.orm import Mapped, mapped_column

from posthorn.delivery.progress import FileRecords, record_key
from posthorn.model.base import MessageBase, SessionFactory, UTCDateTime, utc_now
from posthorn.site_lock import SiteLocks

__all__ = ["DatabaseDeliveryRecord", "DatabaseRecords", "DeliveryRecordRow"]

DONE, PARKED, TOLD = "done", "parked", "told"
# Done marks are written together once this many wait, or the first has waited this
# long (seconds), and always before the record closes: a runner killed mid-post
# re-sends at most those, besides the batches in flight.  Written one by one, a
# personalized post to 1,000 members cost 1,000 commits.
WRITE_ROWS = 200
WRITE_AFTER = 0.25
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


# The marks of one kind in one statement, skipping those already there (a redone batch
# writes them again).
# The addresses go as one text, a line each (no address holds a line end; the owners'
# notice is one empty line): psycopg writes a list as an array an element at a time, in
# Python, which cost more than the statement.
_INSERT = (
    "INSERT INTO delivery_records (record_key, mark, address, written_at) "
    "SELECT :key, :mark, address, :now "
    "FROM regexp_split_to_table(CAST(:addresses AS text), chr(10)) AS address"
)
_INSERT_DURABLE = text(_INSERT + " ON CONFLICT DO NOTHING")
# The same, committed without waiting for the server's disk (``set_config`` with
# is_local true lasts for the statement's own transaction).  A crash of the database
# server (not of a runner) may then lose the last marks, which re-sends those copies,
# as a power cut may undo the last appends to a record file; it saves a disk flush per
# batch, which per member is most of a mark's cost.
_INSERT_QUICK = text(
    _INSERT + ", (SELECT set_config('synchronous_commit', 'off', true)) AS quick "
    "ON CONFLICT DO NOTHING"
)


class DatabaseDeliveryRecord:
    """One post's record (``IDeliveryRecord``), locked site-wide while it is open."""

    def __init__(self, locks: SiteLocks, list_id: str, audience: str, message_id: str) -> None:
        self.done: set[str] = set()
        self.parked: set[str] = set()
        self.told = False
        self._held = ExitStack()
        self._connection: Connection | None = None
        # Done marks not yet written, and when the first of them was made (monotonic).
        self._unwritten: list[str] = []
        self._since = 0.0
        self.key: str | None = None
        if not message_id.strip():
            return  # nothing names the post across entries: an in-memory record
        self.key = record_key(list_id, audience, message_id)
        try:
            self._connection = self._held.enter_context(locks.holding(f"delivery.{self.key}"))
            if self._connection is None:
                raise ValueError("delivery records in the database need PostgreSQL")
            self._load(self._connection, self.key)
        except BaseException:
            self._held.close()
            raise

    def _load(self, connection: Connection, key: str) -> None:
        query = select(DeliveryRecordRow.mark, DeliveryRecordRow.address).where(
            DeliveryRecordRow.record_key == key
        )
        for mark, address in connection.execute(query):
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
        # Not added to ``done``: that is what was served before the record was opened,
        # and a post to 100,000 members must not grow a set of them as it goes.
        added = [a for a in addresses if a]
        if not self._unwritten:
            self._since = time.monotonic()
        self._unwritten.extend(added)
        if len(self._unwritten) >= WRITE_ROWS or time.monotonic() - self._since >= WRITE_AFTER:
            self._write_done()

    def park(self, addresses: Iterable[str]) -> None:
        added = [a for a in addresses if a]
        self.parked.update(added)
        self._write_done()
        self._write(PARKED, added)

    def mark_told(self) -> None:
        self.told = True
        self._write_done()
        self._write(TOLD, [""])

    def sync(self) -> None:
        self._write_done()
        if self._connection is None:
            return
        # A transaction that writes commits durably, and so flushes every commit before
        # it, the marks written without waiting for the disk included.
        self._connection.execute(text("SELECT pg_current_xact_id()"))

    def close(self) -> None:
        try:
            self._write_done()
        finally:
            self._connection = None
            self._held.close()

    def _write_done(self) -> None:
        unwritten, self._unwritten = self._unwritten, []
        self._write(DONE, unwritten)

    def _write(self, mark: str, addresses: list[str]) -> None:
        if not addresses or self._connection is None:
            return
        # Done marks, written as each batch ends, do not wait for the server's disk; a
        # parked mark or the owners' notice is rare, precedes a notice, and does.
        lines = "\n".join(addresses)
        values = {"key": self.key, "mark": mark, "addresses": lines, "now": utc_now()}
        self._connection.execute(_INSERT_QUICK if mark == DONE else _INSERT_DURABLE, values)


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
        return DatabaseDeliveryRecord(self._locks, list_id, audience, message_id)

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
