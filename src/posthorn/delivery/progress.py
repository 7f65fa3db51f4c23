"""Which recipients of a post are done, kept on disk, so that no redo sends twice.

One record per post and audience, named by a hash of the list-id, the audience (the
list's roster, or an explicit recipient list: a notice, an owner post) and the post's
Message-ID-Hash.  It outlives the queue entry: when an earlier stage redoes its entry
(incoming or pipeline killed after handing the post on, before finishing), the second
copy that reaches the outgoing runner finds its recipients done and sends nothing;
a retried, shunted or parked entry carries its ``audience`` and finds the same record.

Lines: an address is done (the MTA accepted it, or refused it for good); ``! ADDRESS``
was parked on queue ``dead`` (refused with the whole message; sent again only by an
entry re-queued from there); ``#told`` says the owners heard of the refusal.  Writes
are appends to a file held under ``flock`` for the whole delivery (two entries for the
same post take turns).  An append survives the process being killed; like a finished
queue entry, only a power cut can undo one, so only ``sync`` (before an entry leaves
for ``dead`` or ``shunt``) fsyncs.  Records older than ``record_age`` are pruned.

Creating a file is the dearest system call of a post here (allocating an inode: 15 us
on a quiet folder, 0.2-0.6 ms where many files come and go), and a record is made
before the first copy goes out.  So each record file, once closed, leaves an empty
spare behind (``.spare-N``), made after the post's copies went out; the next post's
record is that spare, renamed to its name without replacing a record already there
(``renameat2`` with RENAME_NOREPLACE), and only without a spare is a file created.

A site on SQLite keeps its records in a ledger (``delivery.ledger``) in ``[paths]
data_dir``/outgoing, where a large post's record goes on in a file of this kind
(``KEY.marks``) and the ``.done`` files of an earlier version are still read; a site
on PostgreSQL keeps them in its database (``model.delivery_records``), where every host
finds them: an entry redone or redelivered on another host must see what this one sent.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import functools
import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, cast

from posthorn.clibrary import c_library
from posthorn.interfaces.messages import message_id_hash

__all__ = ["DeliveryRecord", "FileRecords", "audience_of", "prune", "record_key"]

SUFFIX = ".done"
_TOLD = "#told"
# Spare record files kept in the folder: one per runner taking records at once is enough.
SPARES = 2
SPARE_PREFIX = ".spare-"
_AT_FDCWD = -100
_RENAME_NOREPLACE = 1
_OPEN_FLAGS = os.O_RDWR | os.O_APPEND | os.O_CLOEXEC


def audience_of(msgdata: dict[str, Any]) -> str:
    """``list`` for the roster, else a hash of the explicit recipients; kept on retries."""
    if msgdata.get("audience"):
        return str(msgdata["audience"])
    if "recipients" not in msgdata:
        return "list"
    names = sorted({str(address).lower() for address in msgdata["recipients"]})
    return "to:" + hashlib.sha1("\n".join(names).encode("utf-8", "surrogateescape")).hexdigest()


def record_key(list_id: str, audience: str, message_id: str) -> str:
    """The name of a post's record for an audience: the same on every host."""
    key = "\0".join((list_id, audience, message_id_hash(message_id)))
    return hashlib.sha1(key.encode()).hexdigest()


class DeliveryRecord:
    """The done marks of one post for one audience, locked while it is open."""

    def __init__(
        self, directory: Path, list_id: str, audience: str, message_id: str, suffix: str = SUFFIX
    ) -> None:
        self.done: set[str] = set()
        self.parked: set[str] = set()
        self.told = False
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._spent = False  # whether closing makes a spare for the next record
        self.path: Path | None = None
        if not message_id.strip():
            return  # nothing names the post across entries: an in-memory record
        self.path = directory / (record_key(list_id, audience, message_id) + suffix)
        fd, self._spent = _take_spare(directory, self.path)
        if fd is None:
            try:
                fd = os.open(self.path, _OPEN_FLAGS | os.O_CREAT, 0o600)
            except FileNotFoundError:
                # Made on first use only: a mkdir per post costs a failing system call.
                directory.mkdir(mode=0o700, parents=True, exist_ok=True)
                fd = os.open(self.path, _OPEN_FLAGS | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._load(fd)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def _load(self, fd: int) -> None:
        chunks = []
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
        for line in b"".join(chunks).decode("utf-8", "surrogateescape").splitlines():
            if line == _TOLD:
                self.told = True
            elif line.startswith("! "):
                self.parked.add(line[2:])
            elif line:
                self.done.add(line)

    def __enter__(self) -> DeliveryRecord:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def record(self, addresses: Iterable[str]) -> None:
        """These recipients are done: no later entry for this post sends to them."""
        # Written, not kept: ``done`` is what was served before the record was opened,
        # and a post to 100,000 members must not grow a set of them as it goes.
        served = addresses if isinstance(addresses, list) else list(addresses)
        if "" in served:
            served = [a for a in served if a]
        if served:
            self._append(("\n".join(served), "\n"))

    def park(self, addresses: Iterable[str]) -> None:
        """These recipients wait on queue ``dead``: only an entry from there sends to them."""
        added = [a for a in addresses if a]
        self.parked.update(added)
        self._append(f"! {a}\n" for a in added)

    def mark_told(self) -> None:
        self.told = True
        self._append([_TOLD + "\n"])

    def sync(self) -> None:
        if self._fd is not None:
            os.fsync(self._fd)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # releases the flock
            self._fd = None
            if self._spent and self.path is not None:
                # After the post's copies went out: the next new record is ready.
                _make_spare(self.path.parent)

    def _append(self, lines: Iterable[str]) -> None:
        text = "".join(lines)
        if not text or self._fd is None:
            return
        with self._lock:
            os.write(self._fd, text.encode("utf-8", "surrogateescape"))


@functools.cache
def _renameat2() -> Callable[[int, bytes, int, bytes, int], int] | None:
    """The C library's ``renameat2``, or None where it has none (looked up once)."""
    library = c_library()
    if library is None:
        return None
    try:
        function = library.renameat2
    except AttributeError:
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                         ctypes.c_uint]  # fmt: skip
    function.restype = ctypes.c_int
    return cast(Callable[[int, bytes, int, bytes, int], int], function)


@functools.lru_cache(maxsize=16)
def _spares(directory: Path) -> tuple[bytes, ...]:
    """The spare names of a folder, made once: a path costs more than the rename it names."""
    return tuple(os.fsencode(directory / f"{SPARE_PREFIX}{slot}") for slot in range(SPARES))


def _take_spare(directory: Path, path: Path) -> tuple[int | None, bool]:
    """The record ``path`` opened: a spare renamed to it if it is new, else the record
    already there; None when there is no spare to take (the caller creates the file).
    And whether a spare is to be made again when the record closes."""
    rename = _renameat2()
    if rename is None:
        return None, False
    target = os.fsencode(path)
    for spare in _spares(directory):
        if rename(_AT_FDCWD, spare, _AT_FDCWD, target, _RENAME_NOREPLACE) == 0:
            return os.open(target, _OPEN_FLAGS), True
        code = ctypes.get_errno()
        if code == errno.EEXIST:
            # The post has a record already (an earlier entry's): it is kept as it is.
            return os.open(target, _OPEN_FLAGS), False
        if code != errno.ENOENT:
            return None, False  # no RENAME_NOREPLACE on this file system, say
    return None, True


def _make_spare(directory: Path) -> None:
    """Leave an empty spare for the next record in the first free slot, if there is one."""
    for spare in _spares(directory):
        try:
            os.close(os.open(spare, _OPEN_FLAGS | os.O_CREAT | os.O_EXCL, 0o600))
            return
        except FileExistsError:
            continue
        except OSError:
            return  # a spare only saves time: the next record is created instead


def prune(directory: Path, age: float, now: float | None = None, suffix: str = SUFFIX) -> int:
    """Remove the records last written more than ``age`` seconds ago; return how many."""
    limit = (time.time() if now is None else now) - age
    removed = 0
    try:
        paths = list(directory.glob("*" + suffix))
    except OSError:
        return 0
    for path in paths:
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    return removed


class FileRecords:
    """The records as files in one folder (``IDeliveryRecords``)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def open(self, list_id: str, audience: str, message_id: str) -> DeliveryRecord:
        return DeliveryRecord(self.directory, list_id, audience, message_id)

    def prune(self, age: float) -> int:
        return prune(self.directory, age)
