"""Group commit: concurrent LMTP sessions share one directory fsync per queue.

An entry is durable once its file is fsynced and the directory holding its new name is
fsynced too.  The file fsync is per entry, but the directory fsync covers every rename
made before it starts, so writers that finish their rename while one directory fsync
runs can all wait for the next one instead of each paying for their own.  Under load
the number of directory fsyncs per second stays about constant while the number of
entries they cover grows; a lone writer syncs at once, with no added delay.

It runs in the writing threads themselves: the first writer to need a sync when none is
running runs it, the others wait on a condition.  The event loop hands each message to
a writer once and hears back once, when the message is durable.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__ = ["GroupCommit"]

# Failed syncs remembered for writers that wake late; a writer is never that late.
_KEPT_FAILURES = 64


class GroupCommit:
    """Runs ``sync`` (blocking) once for every batch of threads calling ``commit``.

    ``commit()`` returns only after a ``sync`` that *started* after the call, so
    everything the caller wrote before calling is covered; it raises what that ``sync``
    raised.
    """

    def __init__(self, sync: Callable[[], None]) -> None:
        self._sync = sync
        self._changed = threading.Condition(threading.Lock())
        # Syncs started and finished so far; they are numbered from 1 and never overlap.
        self._started = 0
        self._finished = 0
        self._failures: dict[int, Exception] = {}
        self.syncs = 0

    def commit(self) -> None:
        with self._changed:
            # The first sync to start from now on covers what the caller wrote.
            needed = self._started + 1
            while self._started >= needed or self._started > self._finished:
                if self._finished >= needed:
                    failed = self._failures.get(needed)
                    if failed is not None:
                        raise failed
                    return
                self._changed.wait()
            # None running and ours not started: this thread runs it.
            self._started = needed
        failure: Exception | None = None
        try:
            self._sync()
        except Exception as error:
            failure = error
        except BaseException:
            # The waiters must not hang on a sync that never ends, nor take it as done.
            failure = OSError("directory sync interrupted")
            raise
        finally:
            with self._changed:
                self._finished = needed
                self.syncs += 1
                if failure is not None:
                    self._failures[needed] = failure
                    for old in [n for n in self._failures if n <= needed - _KEPT_FAILURES]:
                        del self._failures[old]
                self._changed.notify_all()
        if failure is not None:
            raise failure
