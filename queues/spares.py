"""Spare files: a finished entry's file is kept to hold the next entry written to its queue.

Creating a file is the dearest system call of a hop: allocating an inode cost 50 us
of CPU on a quiet machine here and 0.2-0.8 ms under load, where renaming one costs
20 us.  So ``finish`` renames a finished entry's file to one of ``SLOTS`` spare names
in its queue (``.spare-0`` ...) instead of removing it, and the next enqueue there
renames a spare to its temporary name, empties it and writes the entry into it
(``files.write_durable``).  Every step is a rename, atomic in one folder: two writers
never get the same spare, and a spare renamed over another only removes the older one,
which is what ``finish`` did before.  Readers list only ``.pck`` and ``.bak`` names and
tidying only those and ``.tmp``, so a spare is never taken for an entry; a file past
``MAX_SIZE`` is removed as before rather than kept.

A spare holds a finished entry's bytes until it is reused, private like every queue
file.  Should a power cut lose the renames that made an entry's old file a spare while
the new entry's bytes reached the disk, the old name comes back holding the new entry,
which is then processed twice: a duplicate, within the bound recovery already allows.
"""

from __future__ import annotations

import fcntl
import itertools
import os
import stat
from pathlib import Path

from posthorn.queues.files import PRIVATE_FILE

__all__ = ["MAX_SIZE", "PREFIX", "SLOTS", "Spares"]

PREFIX = ".spare-"
# One in flight per queue is the common case; a few more cover a short burst.
SLOTS = 4
# A large file is removed as before: its inode is a small part of writing it again.
MAX_SIZE = 1024 * 1024


class Spares:
    """The spare files of one queue folder."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        # Names as strings: a hop asks for them twice, and a Path costs more than the
        # rename it names.
        self._names = [os.path.join(directory, f"{PREFIX}{slot}") for slot in range(SLOTS)]
        self._turn = itertools.count(os.getpid())

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

    def take(self, temp: str | Path) -> int | None:
        """A spare renamed to ``temp``, emptied, opened for writing and locked; None if
        there is none (the caller creates ``temp`` instead)."""
        for slot in self._slots():
            try:
                os.rename(slot, temp)
            except OSError:
                continue
            fd = self._open(temp)
            if fd is not None:
                return fd
            # Not a file of ours (put there by hand): left where it was found.
            try:
                os.rename(temp, slot)
            except OSError:
                return None
        return None

    @staticmethod
    def _open(temp: str | Path) -> int | None:
        flags = os.O_WRONLY | os.O_TRUNC | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        try:
            fd = os.open(temp, flags)
        except OSError:
            return None
        # Locked as a newly created temporary file is (see ``files.write_durable``):
        # a tidy that removed it before the lock leaves it without a name.
        fcntl.flock(fd, fcntl.LOCK_EX)
        info = os.fstat(fd)
        private = stat.S_IMODE(info.st_mode) == PRIVATE_FILE
        if stat.S_ISREG(info.st_mode) and private and info.st_uid == os.geteuid() and info.st_nlink:
            return fd
        os.close(fd)
        return None
