"""What a queue holds, for status listings and the watchdog: counts, ages, claims.

A mixin of ``Switchboard``: it reads the folder and never changes it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import NamedTuple

from posthorn.queues.naming import arrival_ns

__all__ = ["CLAIMED", "QUEUED", "QueueEntry", "QueueListing"]

QUEUED, CLAIMED = ".pck", ".bak"


class QueueEntry(NamedTuple):
    """One entry as a status listing shows it."""

    filebase: str
    state: str  # "queued" (waiting) or "claimed" (being processed, or orphaned by a crash)
    size: int
    mtime: float


class QueueListing:
    """The read-only views of one queue folder (``Switchboard`` supplies the folder)."""

    queue_dir: Path

    def _listdir(self) -> list[str]:
        return os.listdir(self.queue_dir)

    def _path(self, filebase: str, suffix: str) -> Path:
        return self.queue_dir / (filebase + suffix)

    def _names(self, suffix: str, *, every_slice: bool = False) -> list[str]:
        raise NotImplementedError

    def count(self) -> int:
        return sum(1 for name in self._listdir() if name.endswith(QUEUED))

    def oldest_age(self) -> float | None:
        oldest: float | None = None
        for name in self._listdir():
            if not name.endswith(QUEUED):
                continue
            arrived = arrival_ns(name[: -len(QUEUED)])
            if arrived is None:
                try:
                    stamp = (self.queue_dir / name).stat().st_mtime
                except FileNotFoundError:
                    continue
            else:
                stamp = arrived / 1e9
            oldest = stamp if oldest is None else min(oldest, stamp)
        return None if oldest is None else max(time.time() - oldest, 0.0)

    def entries(self) -> list[QueueEntry]:
        found = []
        for name in sorted(self._listdir()):
            state = {QUEUED: "queued", CLAIMED: "claimed"}.get(name[-4:])
            if state is None:
                continue
            try:
                info = (self.queue_dir / name).stat()
            except FileNotFoundError:
                continue
            found.append(QueueEntry(name[:-4], state, info.st_size, info.st_mtime))
        return found

    def claimed_since(self) -> float | None:
        """Wall-clock time of the newest claim in this slice, or None if nothing is claimed.

        A claim is the rename to ``.bak``, and a rename sets the file's ctime but keeps
        its mtime (the enqueue time), so the ctime says how long a reader has had the
        entry in hand.  The newest claim is the entry being processed: a batch claims
        its entries one after the other and finishes them together, so the older claims
        are done and wait only for the batch's sync.  The master's watchdog uses it to
        find a runner that hangs on one entry.
        """
        newest: float | None = None
        for filebase in self._names(CLAIMED):
            try:
                claimed = self._path(filebase, CLAIMED).stat().st_ctime
            except FileNotFoundError:
                continue
            newest = claimed if newest is None else max(newest, claimed)
        return newest
