"""Spare files: a finished entry's file is kept to hold a later entry written to its queue.

Creating a file is the dearest system call of a hop: allocating an inode cost 50 us
of CPU on a quiet machine here and 0.2-0.8 ms under load, where renaming one costs
20 us.  So ``finish`` renames a finished entry's file to one of ``SLOTS`` spare names
in its queue (``.spare-0`` ...) instead of removing it (``retire``).  A writer takes a
spare ahead of need (``reserve``: renamed to a name of its own, ``.spare-<pid>-<n>.tmp``,
opened and locked) just before a directory fsync, and writes an entry into it only once
a directory fsync that started after the take has finished (``reserved``).  Every step
is a rename, atomic in one folder: two writers never get the same spare, and a spare
renamed over another only removes the older one, which is what ``finish`` did before.
Readers list only ``.pck`` and ``.bak`` names, so a spare is never taken for an entry;
a dead writer's reserve is a ``.tmp`` file nobody holds a lock on, which tidying
removes; a file past ``MAX_SIZE`` is removed as before rather than kept.

Why the wait for a directory fsync: the entry is written over the spare's old bytes in
place (``files.write_durable``), with no truncation first, because freeing the blocks
and allocating them again cost more than the write itself.  Until the renames that
took the file away from its old entry's name are on disk, a power cut could bring that
name back, and with it a file holding a mix of the old entry's and the new one's
blocks: readable as an entry, and neither.  Once those renames are durable, the only
names the file can come back with are its reserve name (removed by tidying) and the new
entry's, which it gets only after its new content is fsynced.  Until then a writer
creates a file, as it would with no spare at all.

A spare holds a finished entry's bytes until it is reused, private like every queue file.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import os
import stat
import threading
import time
from pathlib import Path

from posthorn.queues.files import PRIVATE_FILE, TEMP_SUFFIX, Reusable

__all__ = ["MAX_SIZE", "PREFIX", "SLOTS", "Spares"]

PREFIX = ".spare-"
# One in flight per queue is the common case; a few more cover a short burst.
SLOTS = 4
# A large file is removed as before: its inode is a small part of writing it again.
MAX_SIZE = 1024 * 1024
# Seconds a writer that found no spare leaves the slots alone: a queue nobody reads yet
# (a burst, a stopped runner) would otherwise cost a failed rename per slot per entry.
EMPTY_PAUSE = 0.05

# Forks of this process so far, counted in each child: telling a forked child from its
# parent by a number rather than by os.getpid(), a system call twice per entry.
_forks = 0


def _forked() -> None:
    global _forks
    _forks += 1


os.register_at_fork(after_in_child=_forked)


class Spares:
    """The spare files of one queue folder, and those this process has taken ahead."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        # Names as strings: a hop asks for them twice, and a Path costs more than the
        # rename it names.
        self._names = [os.path.join(directory, f"{PREFIX}{slot}") for slot in range(SLOTS)]
        self._turn = itertools.count(os.getpid())
        self._lock = threading.Lock()
        # Taken spares, each with the number of directory fsyncs started before its take.
        self._reserve: list[tuple[Reusable, int]] = []
        self._pid = os.getpid()
        self._fork = _forks
        # Directory fsyncs of this folder started by this process, and the highest
        # number among those finished.
        self._started = 0
        self._finished = 0
        self._empty_until = 0.0

    def _slots(self) -> list[str]:
        first = next(self._turn) % SLOTS
        return self._names[first:] + self._names[:first]

    def retire(self, path: str | Path) -> None:
        """Make the finished entry file ``path`` a spare (or remove it if too large).

        Raises FileNotFoundError if ``path`` is gone.
        """
        if os.stat(path).st_size > MAX_SIZE:
            os.unlink(path)
            return
        os.rename(path, self._names[next(self._turn) % SLOTS])

    def syncing(self) -> int:
        """Call just before an fsync of the folder; give the number to ``synced``."""
        with self._lock:
            self._started += 1
            return self._started

    def synced(self, number: int) -> None:
        """The folder fsync ``syncing`` numbered has finished."""
        with self._lock:
            self._finished = max(self._finished, number)

    def reserved(self) -> Reusable | None:
        """A spare whose take a finished directory fsync covers, now the caller's; or None."""
        with self._lock:
            self._forget_if_forked()
            for index, (spare, taken) in enumerate(self._reserve):
                if taken < self._finished:
                    del self._reserve[index]
                    return spare
        return None

    def reserve(self) -> None:
        """Take a spare ahead of need, if there is one and fewer than ``SLOTS`` are taken.

        Call it before a directory fsync: the take counts as covered once an fsync that
        started after it has finished.
        """
        with self._lock:
            self._forget_if_forked()
            if len(self._reserve) >= SLOTS or time.monotonic() < self._empty_until:
                return
        path = os.path.join(self.directory, f"{PREFIX}{self._pid}-{next(self._turn)}{TEMP_SUFFIX}")
        for slot in self._slots():
            try:
                os.rename(slot, path)
            except OSError:
                continue
            spare = self._open(path)
            if spare is not None:
                # Counted after the rename: only an fsync that starts later covers it.
                with self._lock:
                    self._reserve.append((spare, self._started))
                return
            # Not a file of ours (put there by hand): left where it was found.
            try:
                os.rename(path, slot)
            except OSError:
                return
        self._empty_until = time.monotonic() + EMPTY_PAUSE

    def release(self) -> None:
        """Give the spares taken ahead back to the folder (when the queue is closed)."""
        with self._lock:
            forked = self._fork != _forks
            reserve, self._reserve = self._reserve, []
        for spare, _ in reserve:
            if not forked:
                with contextlib.suppress(OSError):
                    os.rename(spare.path, self._names[next(self._turn) % SLOTS])
            os.close(spare.fd)

    def _forget_if_forked(self) -> None:
        # A forked child shares its parent's descriptors and locks: the parent's reserve
        # is the parent's.  Closing the child's copies leaves the parent's lock held.
        if self._fork != _forks:
            for spare, _ in self._reserve:
                os.close(spare.fd)
            self._reserve = []
            self._pid = os.getpid()
            self._fork = _forks

    @staticmethod
    def _open(path: str) -> Reusable | None:
        flags = os.O_WRONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        try:
            fd = os.open(path, flags)
        except OSError:
            return None
        # Locked as a newly created temporary file is (see ``files.write_durable``):
        # a tidy that removed it before the lock leaves it without a name.
        fcntl.flock(fd, fcntl.LOCK_EX)
        info = os.fstat(fd)
        private = stat.S_IMODE(info.st_mode) == PRIVATE_FILE
        if stat.S_ISREG(info.st_mode) and private and info.st_uid == os.geteuid() and info.st_nlink:
            return Reusable(fd, path, info.st_size)
        os.close(fd)
        return None
