"""The files backend's view of a whole site's queues: one folder per queue under a root.

A store makes the queues (``open``) and answers for all of them at once: which exist,
what they hold, and the administrator's single-entry actions (``admin``).  Everything
that knows a queue is a folder, an entry a ``.pck`` file and a claim a ``.bak`` lives
behind it, so the rest of Posthorn asks a store and never looks at the disk.
``posthorn.queues.amqp_store`` is the same for RabbitMQ.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from email.policy import Policy, compat32
from pathlib import Path
from typing import Any

from posthorn.queues import admin
from posthorn.queues.admin import EntryInfo, StoredEntry
from posthorn.queues.errors import EntryGone
from posthorn.queues.switchboard import Switchboard

__all__ = ["FileStore"]

SHUNT, BAD = "shunt", "bad"


class FileStore:
    """The queues under ``queue_dir``, each a folder (created when first opened)."""

    backend = "files"

    def __init__(self, queue_dir: str | Path) -> None:
        self.queue_dir = Path(queue_dir)

    def __repr__(self) -> str:
        return f"<FileStore {self.queue_dir}>"

    def open(
        self,
        name: str,
        *,
        slice: int = 0,
        count: int = 1,
        max_attempts: int = 3,
        prefetch: int = 0,
        logger: logging.Logger | None = None,
        policy: Policy[Any] = compat32,
    ) -> Switchboard:
        """Queue ``name``; with ``count`` > 1, a reader of slice ``slice`` of it.

        ``prefetch`` is for backends that push entries to their readers; a folder is
        listed instead, so it is not used here.
        """
        del prefetch
        return Switchboard(
            self.queue_dir / name,
            name=name,
            slice=slice,
            count=count,
            max_attempts=max_attempts,
            shunt_dir=self.queue_dir / SHUNT,
            bad_dir=self.queue_dir / BAD,
            logger=logger,
            policy=policy,
        )

    def exists(self, name: str) -> bool:
        """True once queue ``name`` has been made (looking never makes it)."""
        return (self.queue_dir / name).is_dir()

    def names(self) -> list[str]:
        """The queues made so far, sorted."""
        if not self.queue_dir.is_dir():
            return []
        return sorted(p.name for p in self.queue_dir.iterdir() if p.is_dir())

    def location(self, name: str) -> str:
        """Where queue ``name`` lives, for a person (here its folder)."""
        return str(self.queue_dir / name)

    def waiting(self, name: str) -> list[str]:
        """The ids of the entries waiting in ``name``, oldest first; [] if none or unmade."""
        if not self.exists(name):
            return []
        with self.open(name) as board:
            return board.get_files()

    def depth(self, name: str, *, slice: int = 0, count: int = 1) -> int:
        """Entries waiting in one reader's slice of ``name`` (0 if it is not made yet)."""
        if not self.exists(name):
            return 0
        with self.open(name, slice=slice, count=count) as board:
            return len(board.get_files())

    def remove(self, name: str, entry_id: str) -> bool:
        """Drop waiting entry ``entry_id`` of queue ``name``; False if it is not there."""
        if entry_id not in self.waiting(name):
            return False
        with self.open(name) as board:
            try:
                board.dequeue_raw(entry_id)
                board.finish(entry_id)
            except EntryGone:
                return False
        return True

    # -- the administrator's view (see ``admin``) --------------------------------------

    def list_entries(self, names: list[str]) -> list[EntryInfo]:
        return admin.list_entries(self.queue_dir, names)

    def scan(self) -> Iterator[StoredEntry]:
        """Every loadable entry of every queue, waiting or claimed, loaded."""
        return admin.scan(self.queue_dir)

    def peek(self, entry_id: str) -> tuple[bytes, dict[str, Any]]:
        """Entry ``entry_id`` (or the entry file at that path), loaded but not claimed."""
        return admin.peek(self.queue_dir, entry_id)

    def delete(self, entry_id: str) -> str:
        return admin.delete(self.queue_dir, entry_id)

    def hold(self, entry_id: str) -> str:
        return admin.hold(self.queue_dir, entry_id)

    def release(self, entry_id: str) -> str:
        return admin.release(self.queue_dir, entry_id)

    def requeue(self, entry_id: str, to: str | None = None) -> tuple[str, str]:
        return admin.requeue(self.queue_dir, entry_id, to)

    def close(self) -> None:
        """Nothing is held open between calls."""
