"""Group commit: concurrent LMTP sessions share one directory fsync per queue.

An entry is durable once its file is fsynced and the directory holding its new name is
fsynced too.  The file fsync is per entry, but the directory fsync covers every rename
made before it starts, so writers that finish their rename while one directory fsync
runs can all wait for the next one instead of each paying for their own.  Under load
the number of directory fsyncs per second stays about constant while the number of
entries they cover grows; a lone writer syncs at once, with no added delay.

It runs in the writing threads themselves, and none of them waits: a writer leaves a
waiter (what to answer when its entry is durable) and goes on to its next message,
unless no sync is running, in which case it runs syncs until no waiter is left.  Each
sync hands all the waiters it covered to ``deliver`` at once, so the event loop is
woken once per sync, not once per message, and no thread sleeps on a condition only to
be woken to pass an answer on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["GroupCommit"]

W = TypeVar("W")


class GroupCommit(Generic[W]):
    """Runs ``sync`` (blocking) once for every batch of waiters left by ``commit``.

    ``deliver(waiters, error)`` receives every waiter once, with None or what the
    ``sync`` that covered it raised; that ``sync`` *started* after the waiter's
    ``commit`` was called, so everything its writer did before calling is covered.
    """

    def __init__(
        self, sync: Callable[[], None], deliver: Callable[[list[W], Exception | None], None]
    ) -> None:
        self._sync = sync
        self._deliver = deliver
        self._lock = threading.Lock()
        self._waiting: list[W] = []
        self._running = False
        self.syncs = 0

    def commit(self, waiter: W) -> None:
        """Leave ``waiter`` for the next sync; run syncs here if none is running."""
        with self._lock:
            self._waiting.append(waiter)
            if self._running:
                return
            self._running = True
        try:
            while True:
                with self._lock:
                    # Taken before the sync starts: the sync covers exactly these.
                    batch, self._waiting = self._waiting, []
                    if not batch:
                        self._running = False
                        return
                self._run(batch)
        except BaseException:
            # This thread is being torn down (or ``deliver`` failed): whoever is behind
            # it is failed rather than left waiting for a sync nobody will run.
            with self._lock:
                stranded, self._waiting = self._waiting, []
                self._running = False
            if stranded:
                self._deliver(stranded, OSError("directory sync interrupted"))
            raise

    def _run(self, batch: list[W]) -> None:
        failure: Exception | None = None
        try:
            self._sync()
        except Exception as error:
            failure = error
        except BaseException:
            self._deliver(batch, OSError("directory sync interrupted"))
            raise
        self.syncs += 1
        self._deliver(batch, failure)
