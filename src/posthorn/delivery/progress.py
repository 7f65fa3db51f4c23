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

These are the records of a site on SQLite, in ``[paths] data_dir``/outgoing; a site
on PostgreSQL keeps them in its database (``model.delivery_records``), where every host
finds them: an entry redone or redelivered on another host must see what this one sent.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from posthorn.interfaces.messages import message_id_hash

__all__ = ["DeliveryRecord", "FileRecords", "audience_of", "prune", "record_key"]

SUFFIX = ".done"
_TOLD = "#told"


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

    def __init__(self, directory: Path, list_id: str, audience: str, message_id: str) -> None:
        self.done: set[str] = set()
        self.parked: set[str] = set()
        self.told = False
        self._lock = threading.Lock()
        self._fd: int | None = None
        self.path: Path | None = None
        if not message_id.strip():
            return  # nothing names the post across entries: an in-memory record
        self.path = directory / (record_key(list_id, audience, message_id) + SUFFIX)
        flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
        try:
            fd = os.open(self.path, flags, 0o600)
        except FileNotFoundError:
            # Made on first use only: a mkdir per post costs a failing system call.
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(self.path, flags, 0o600)
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

    def _append(self, lines: Iterable[str]) -> None:
        text = "".join(lines)
        if not text or self._fd is None:
            return
        with self._lock:
            os.write(self._fd, text.encode("utf-8", "surrogateescape"))


def prune(directory: Path, age: float, now: float | None = None) -> int:
    """Remove the records last written more than ``age`` seconds ago; return how many."""
    limit = (time.time() if now is None else now) - age
    removed = 0
    try:
        paths = list(directory.glob("*" + SUFFIX))
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
