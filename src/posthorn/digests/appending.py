"""Appending a post to a digest mailbox, with the mailbox and its names file kept open.

Each post a pipeline runner passes appends to its list's mailbox (``mailbox.py`` says
how the mailbox is locked and rotated).  Opening the mailbox and its names file
(``LIST-ID.seen``, the Message-ID-Hashes of the last ``SEEN_KEEP`` posts) and reading
every name again cost an append more than writing the post did, so a process keeps
both open for the last ``OPEN_MAILBOXES`` lists it appended to, with the names read
so far: under the mailbox's lock it reads only what other processes added to the
names file since, and opens the mailbox again only when it was rotated away (its file
is no longer the one at its path) or the names file was trimmed (replaced).  Every
write to either file is made under the mailbox's lock, so what is read under it is
whole.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import IO

from posthorn import forks
from posthorn.queues.files import DescriptorWriter, write_all

__all__ = ["READ_SLICE", "SEEN_KEEP", "append", "forget_open", "is_same"]

READ_SLICE = 256 * 1024
# How many recent posts' names are kept per list to recognise a redone append; a redo
# follows its first attempt within minutes, while this many posts take days on most lists.
SEEN_KEEP = 2000
# Lists whose mailbox a process keeps open (two descriptors each).
OPEN_MAILBOXES = 32


class _Mailbox:
    """One list's mailbox and names file, open, and the names read from it so far."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.seen = path.with_suffix(".seen")
        self.lock = threading.Lock()  # flock does not keep apart two threads of one file
        self.fd = _open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self.seen_fd: int | None = None
        self.seen_inode = 0
        self.seen_size = 0
        self.names: set[bytes] = set()

    def reopen(self) -> None:
        """The mailbox at ``path`` now: the file open was rotated away."""
        os.close(self.fd)
        self.fd = _open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def read_names(self) -> None:
        """Bring the names up to the names file (under the mailbox's lock)."""
        if self.seen_fd is None:
            self.seen_fd = _open(self.seen, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o666)
            self.seen_inode, self.seen_size, self.names = os.fstat(self.seen_fd).st_ino, 0, set()
        try:
            now = os.stat(self.seen)
        except FileNotFoundError:
            now = None
        if now is None or now.st_ino != self.seen_inode:
            # Trimmed (or removed) by another process: read the new file from its start.
            self._close_seen()
            self.read_names()
            return
        if now.st_size != self.seen_size:
            if now.st_size < self.seen_size:
                self.seen_size, self.names = 0, set()
            added = _read_from(self.seen_fd, self.seen_size, now.st_size - self.seen_size)
            self.seen_size += len(added)
            self.names.update(added.split())

    def remember(self, key: bytes) -> None:
        """Add ``key`` to the names file, trimming it to its last SEEN_KEEP names."""
        assert self.seen_fd is not None
        line = key + b"\n"
        write_all(self.seen_fd, line)
        self.seen_size += len(line)
        self.names.add(key)
        if self.seen_size > SEEN_KEEP * 2 * len(line):
            kept = _read_from(self.seen_fd, 0, self.seen_size).split()[-SEEN_KEEP:]
            temporary = self.seen.with_suffix(".seen.tmp")
            temporary.write_bytes(b"".join(k + b"\n" for k in kept))
            os.replace(temporary, self.seen)
            self._close_seen()

    def _close_seen(self) -> None:
        if self.seen_fd is not None:
            os.close(self.seen_fd)
        self.seen_fd = None

    def close(self) -> None:
        self._close_seen()
        os.close(self.fd)


_open_mailboxes: OrderedDict[Path, _Mailbox] = OrderedDict()
_open_lock = threading.Lock()
# The fork of the process the open mailboxes belong to.
_open_generation = forks.generation


def _mailbox(path: Path) -> _Mailbox:
    """``path``'s open mailbox, opened if it is not (the least recent closed)."""
    global _open_generation
    with _open_lock:
        if _open_generation != forks.generation:
            # Inherited: the parent's descriptors, whose locks stay the parent's.
            _close_all()
            _open_generation = forks.generation
        box = _open_mailboxes.get(path)
        if box is not None:
            _open_mailboxes.move_to_end(path)
            return box
        box = _open_mailboxes[path] = _Mailbox(path)
        while len(_open_mailboxes) > OPEN_MAILBOXES:
            _open_mailboxes.popitem(last=False)[1].close()
        return box


def _close_all() -> None:
    while _open_mailboxes:
        _open_mailboxes.popitem()[1].close()


def forget_open() -> None:
    """Close every mailbox this process keeps open."""
    with _open_lock:
        _close_all()


def append(path: Path, entry: bytes | Callable[[IO[bytes]], None], key: str = "") -> int:
    """Append one mbox entry under the lock; the mailbox's size afterwards.

    ``entry`` may be a function that writes it to the file, so that a large post is not
    first made into bytes; if it fails, the mailbox is cut back to where it was.  With a
    ``key`` (the post's Message-ID-Hash), a post appended before is not appended again.
    """
    box = _mailbox(path)
    with box.lock:
        while True:
            fcntl.flock(box.fd, fcntl.LOCK_EX)
            try:
                before = os.fstat(box.fd)
                if not is_same(before, path):
                    # Rotated (while we waited, or since the last post): this file is
                    # somebody's digest already.
                    box.reopen()
                    continue
                if not key:
                    return before.st_size + _write(box.fd, before.st_size, entry)
                name = key.encode("ascii")
                box.read_names()
                if name in box.names:
                    return before.st_size
                written = _write(box.fd, before.st_size, entry)
                box.remember(name)
                return before.st_size + written
            finally:
                fcntl.flock(box.fd, fcntl.LOCK_UN)


def _open(path: Path, flags: int, mode: int) -> int:
    try:
        return os.open(path, flags | os.O_CLOEXEC, mode)
    except FileNotFoundError:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        return os.open(path, flags | os.O_CLOEXEC, mode)


def is_same(opened: os.stat_result, path: Path) -> bool:
    """Whether the file ``opened`` describes is still the one at ``path``."""
    try:
        return opened.st_ino == os.stat(path).st_ino
    except FileNotFoundError:
        return False


def _read_from(fd: int, offset: int, size: int) -> bytes:
    """``size`` bytes of ``fd`` from ``offset`` (fewer at its end)."""
    pieces = []
    while size > 0 and (piece := os.pread(fd, min(size, READ_SLICE), offset)):
        pieces.append(piece)
        offset += len(piece)
        size -= len(piece)
    return b"".join(pieces)


def _write(fd: int, before: int, entry: bytes | Callable[[IO[bytes]], None]) -> int:
    if callable(entry):
        return _write_entry(fd, before, entry)
    write_all(fd, entry)
    return len(entry)


def _write_entry(fd: int, before: int, write: Callable[[IO[bytes]], None]) -> int:
    """Have ``write`` write the entry at the end of the file; how long it was."""
    writer = DescriptorWriter(fd, before)
    try:
        write(writer)  # type: ignore[arg-type]
        writer.flush()
    except BaseException:
        os.ftruncate(fd, before)
        raise
    return writer.tell() - before
