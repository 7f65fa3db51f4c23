"""Group commit: concurrent LMTP sessions share one directory fsync per queue.

An entry is durable once its file is fsynced and the directory holding its new name is
fsynced too.  The file fsync is per entry, but the directory fsync covers every rename
made before it starts, so sessions that finish writing while one directory fsync runs
can all wait for the next one instead of each paying for their own.  Under load the
number of directory fsyncs per second stays about constant while the number of messages
they cover grows; an idle server still syncs at once, with no added delay.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

__all__ = ["GroupCommit"]


class GroupCommit:
    """Runs ``sync`` (blocking) in a worker thread for every batch of waiting callers.

    A caller's ``await commit()`` returns only after a ``sync`` that *started* after the
    call, so everything the caller wrote before calling is covered; it raises what that
    ``sync`` raised.
    """

    def __init__(self, sync: Callable[[], None]) -> None:
        self._sync = sync
        self._waiting: list[asyncio.Future[None]] = []
        self._runner: asyncio.Task[None] | None = None
        self.syncs = 0

    async def commit(self) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append(future)
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._run())
        # The sync runs in its own task: a caller that goes away (its client hung up)
        # cancels only its own future, never the sync others in its batch wait for.
        await future

    async def _run(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                await asyncio.to_thread(self._sync)
            except Exception as error:
                outcome: BaseException | None = error
            else:
                outcome = None
            self.syncs += 1
            for future in batch:
                if future.done():
                    continue
                if outcome is None:
                    future.set_result(None)
                else:
                    future.set_exception(outcome)
