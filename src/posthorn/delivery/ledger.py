"""The delivery records of a site on SQLite: rows of one local ledger, not a file per post.

The same record as ``delivery.progress`` kept in a file per post (the recipients of a
post already served, those parked on ``dead``, whether the owners were told), as rows
of ``[paths] data_dir``/outgoing/records.sqlite, one per mark, named by the record's
key (``progress.record_key``), one row per batch (its addresses a line each).  A file
per post cost an inode per post, the dearest system call of a delivery on a busy
disk; a row costs an append to the ledger's write-ahead log.  A record written more
than ``SPILL_AFTER`` times (a large list, or a post sent to each member on its own)
goes on in a file of its own (``KEY.marks``, a ``progress.DeliveryRecord``), where a
batch costs an append rather than a transaction; opening a record looks for it.

The ledger is written without waiting for the disk (``synchronous = OFF``): what is
written survives the runner being killed, and only a power cut can undo it, as it
could undo an append to a record file or a finished queue entry.  ``sync`` (before an
entry leaves for ``dead`` or ``shunt``) flushes the ledger and its log to the disk.

While a record is open, a lock on one byte of ``records.lock`` (at an offset named by
the key) is held, an open-file-description lock where the system has them: two
entries for the same post take turns, in one process or two, and entries for other
posts do not wait.  Records whose last mark is older than ``record_age`` are pruned
whole.  Record files left by an earlier version are still read (a post they name is
not sent again) and pruned with the rows.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import struct
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Self

from posthorn import forks
from posthorn.delivery.progress import SUFFIX, DeliveryRecord, prune, record_key

__all__ = ["LedgerRecord", "LedgerRecords"]

LEDGER = "records.sqlite"
LOCKS = "records.lock"
DONE, PARKED, TOLD = 0, 1, 2
# The file a record goes on in (see SPILL_AFTER), named by its key.
SPILL_SUFFIX = ".marks"
# A record written more often than this goes on in a file of its own (a large list, or
# a post to each member on its own): a row costs a transaction of the ledger, an
# append to a file a system call.
SPILL_AFTER = 8
# Keys removed in one statement when pruning.
PRUNE_CHUNK = 500
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS marks "
    "(key BLOB NOT NULL, mark INTEGER NOT NULL, address TEXT NOT NULL, written REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS marks_key ON marks (key)",
    "CREATE INDEX IF NOT EXISTS marks_written ON marks (written)",
)
_INSERT = "INSERT INTO marks (key, mark, address, written) VALUES (?, ?, ?, ?)"
# struct flock on Linux: l_type, l_whence, l_start, l_len, l_pid (0 for an OFD lock).
_FLOCK = "hhqqi"
_OFD_LOCK = getattr(fcntl, "F_OFD_SETLKW", None)
_OFD_UNLOCK = getattr(fcntl, "F_OFD_SETLK", None)
# Descriptors of the lock file kept open, free, per process.
FREE_LOCKS = 4
# Connections a forked process found open, its parent's: kept from being collected,
# whose close would run SQLite's clean-up (a checkpoint, the WAL file's removal) on a
# database the parent still writes through them.
_INHERITED: list[sqlite3.Connection] = []


class _Ledger:
    """The ledger's connection in this process, shared by its records under one lock."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        # Descriptors of the lock file holding no lock, for the next records: an open
        # and a close per post saved.  Each record locks through its own, so two
        # records of one process exclude each other as two processes do.
        self._free: list[int] = []
        # The fork of the process the connection and the descriptors belong to (see
        # ``_adopt``).
        self._generation = forks.generation

    def _adopt(self) -> None:
        """In a process forked since, drop what the parent opened: its connection is
        left to it, unclosed, and its free descriptors are closed (they hold no lock).
        Called with ``lock`` held."""
        if self._generation != forks.generation:
            if self._connection is not None:
                _INHERITED.append(self._connection)
            self._connection = None
            for fd in self._free:
                os.close(fd)
            self._free, self._generation = [], forks.generation

    def connection(self) -> sqlite3.Connection:
        """Opened on first use in each process: a forked runner gets its own."""
        self._adopt()
        if self._connection is None:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            connection = sqlite3.connect(
                self.directory / LEDGER, timeout=60, isolation_level=None,
                check_same_thread=False,
            )  # fmt: skip
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = OFF")
            for statement in _SCHEMA:
                connection.execute(statement)
            self._connection = connection
        return self._connection

    def sync(self) -> None:
        """Flush the ledger and its log (what a checkpoint moved is in the ledger)."""
        with self.lock:
            self.connection()
            for name in (LEDGER + "-wal", LEDGER):
                try:
                    fd = os.open(self.directory / name, os.O_RDONLY | os.O_CLOEXEC)
                except FileNotFoundError:
                    continue
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)

    def take_lock(self, offset: int) -> int:
        """A descriptor of the lock file holding byte ``offset`` locked (waiting for it)."""
        with self.lock:
            self._adopt()
            fd = self._free.pop() if self._free else None
        if fd is None:
            fd = _open_locks(self.directory)
        try:
            _set_lock(fd, offset, fcntl.F_WRLCK)
        except BaseException:
            os.close(fd)
            raise
        return fd

    def release_lock(self, fd: int, offset: int) -> None:
        """Unlock byte ``offset`` and keep ``fd`` for the next record."""
        try:
            _set_lock(fd, offset, fcntl.F_UNLCK)
        except OSError:
            os.close(fd)  # closing releases it too
            return
        with self.lock:
            if self._generation == forks.generation and len(self._free) < FREE_LOCKS:
                self._free.append(fd)
                return
        os.close(fd)

    def close(self) -> None:
        with self.lock:
            self._adopt()
            if self._connection is not None:
                self._connection.close()
                self._connection = None
            for fd in self._free:
                os.close(fd)
            self._free = []


class LedgerRecord:
    """One post's record (``IDeliveryRecord``), locked while it is open."""

    def __init__(
        self, ledger: _Ledger, list_id: str, audience: str, message_id: str, legacy: bool
    ) -> None:
        self.done: set[str] = set()
        self.parked: set[str] = set()
        self.told = False
        self._ledger = ledger
        self._lock_fd: int | None = None
        self._offset = 0
        self._names = (list_id, audience, message_id)
        self._file: DeliveryRecord | None = None
        self._writes = 0
        self.key: bytes | None = None
        if not message_id.strip():
            return  # nothing names the post across entries: an in-memory record
        name = record_key(list_id, audience, message_id)
        self.key = bytes.fromhex(name)
        self._offset = int(name[:15], 16)
        self._lock_fd = ledger.take_lock(self._offset)
        try:
            self._load()
            # A failing stat: far cheaper than the file a record once cost.
            if (ledger.directory / (name + SPILL_SUFFIX)).exists():
                self._open_file(SPILL_SUFFIX)
            elif legacy and (ledger.directory / (name + SUFFIX)).exists():
                self._open_file(SUFFIX)
        except BaseException:
            self.close()
            raise

    def _load(self) -> None:
        with self._ledger.lock:
            rows = self._ledger.connection().execute(
                "SELECT mark, address FROM marks WHERE key = ?", (self.key,)
            )
            for mark, lines in rows:
                if mark == TOLD:
                    self.told = True
                elif mark == PARKED:
                    self.parked.update(lines.split("\n"))
                else:
                    self.done.update(lines.split("\n"))

    def _open_file(self, suffix: str) -> DeliveryRecord:
        """The record's file, opened (made if new) and read into this record."""
        record = DeliveryRecord(self._ledger.directory, *self._names, suffix=suffix)
        self._file = record
        self.done |= record.done
        self.parked |= record.parked
        self.told = self.told or record.told
        return record

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def record(self, addresses: Iterable[str]) -> None:
        # Not added to ``done``: that is what was served before the record was opened,
        # and a post to 100,000 members must not grow a set of them as it goes.
        served = [a for a in addresses if a]
        if not served or self.key is None:
            return
        self._writes += 1
        if self._file is None and self._writes > SPILL_AFTER:
            # A large post: its record goes on in a file of its own, found by its name.
            self._open_file(SPILL_SUFFIX)
        if self._file is not None:
            self._file.record(served)
        else:
            self._write(DONE, served)

    def park(self, addresses: Iterable[str]) -> None:
        added = [a for a in addresses if a]
        self.parked.update(added)
        self._write(PARKED, added)

    def mark_told(self) -> None:
        self.told = True
        self._write(TOLD, [""])

    def sync(self) -> None:
        if self.key is not None:
            self._ledger.sync()
        if self._file is not None:
            self._file.sync()

    def close(self) -> None:
        try:
            if self._file is not None:
                self._file.close()
                self._file = None
        finally:
            if self._lock_fd is not None:
                fd, self._lock_fd = self._lock_fd, None
                self._ledger.release_lock(fd, self._offset)

    def _write(self, mark: int, addresses: list[str]) -> None:
        """One row of the ledger: the mark for every address of ``addresses``."""
        if not addresses or self.key is None:
            return
        # A line each: no address holds a line end (the told mark is one empty line).
        row = (self.key, mark, "\n".join(addresses), time.time())
        with self._ledger.lock:
            self._ledger.connection().execute(_INSERT, row)


def _open_locks(directory: Path) -> int:
    path = directory / LOCKS
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except FileNotFoundError:
        # Made on first use only: a mkdir per post costs a failing system call.
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)


def _set_lock(fd: int, offset: int, kind: int) -> None:
    """Lock (``F_WRLCK``, waiting) or unlock (``F_UNLCK``) byte ``offset`` through ``fd``."""
    if _OFD_LOCK is not None and _OFD_UNLOCK is not None:
        command = _OFD_LOCK if kind != fcntl.F_UNLCK else _OFD_UNLOCK
        fcntl.fcntl(fd, command, struct.pack(_FLOCK, kind, os.SEEK_SET, offset, 1, 0))
    else:
        fcntl.lockf(fd, fcntl.LOCK_EX if kind != fcntl.F_UNLCK else fcntl.LOCK_UN, 1, offset)


class LedgerRecords:
    """The records of a site on SQLite, in ``directory`` (``IDeliveryRecords``)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._ledger = _Ledger(directory)
        # Record files of an earlier version are looked for only while some are left.
        self._legacy = _has_files(directory)

    def open(self, list_id: str, audience: str, message_id: str) -> LedgerRecord:
        return LedgerRecord(self._ledger, list_id, audience, message_id, self._legacy)

    def prune(self, age: float, now: float | None = None) -> int:
        """Remove the records last written more than ``age`` seconds ago; return how many."""
        limit = (time.time() if now is None else now) - age
        removed = 0
        if (self.directory / LEDGER).exists():
            with self._ledger.lock:
                connection = self._ledger.connection()
                stale = [
                    row[0]
                    for row in connection.execute(
                        "SELECT key FROM marks WHERE written < ? "
                        "EXCEPT SELECT key FROM marks WHERE written >= ?",
                        (limit, limit),
                    )
                ]
                # A record that went on in a file is as old as its last mark there.
                stale = [key for key in stale if not self._young_file(key, limit)]
                for start in range(0, len(stale), PRUNE_CHUNK):
                    chunk = stale[start : start + PRUNE_CHUNK]
                    marks = ",".join("?" * len(chunk))
                    connection.execute(f"DELETE FROM marks WHERE key IN ({marks})", chunk)
                removed += len(stale)
        removed += prune(self.directory, age, now, SPILL_SUFFIX)
        if self._legacy:
            removed += prune(self.directory, age, now)
            self._legacy = _has_files(self.directory)
        return removed

    def _young_file(self, key: bytes, limit: float) -> bool:
        try:
            return (self.directory / (key.hex() + SPILL_SUFFIX)).stat().st_mtime >= limit
        except FileNotFoundError:
            return False

    def close(self) -> None:
        self._ledger.close()


def _has_files(directory: Path) -> bool:
    """Whether ``directory`` holds record files (``*.done``) of an earlier version."""
    try:
        with os.scandir(directory) as entries:
            return any(entry.name.endswith(SUFFIX) for entry in entries)
    except OSError:
        return False
