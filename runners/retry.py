"""The retry runner: holds entries until they are due, then returns them to their queue.

Entries arrive from ``RetryLater`` and from the outgoing runner with ``retry_queue``
(where they go back to) and ``retry_after`` (epoch seconds; absent means now).  An entry
not yet due is kept claimed, in memory, and this runner sleeps until the earliest due
time or a new arrival -- never polling.  On a clean stop the entries not yet due are put
back on the queue unclaimed: recovery counts every entry left claimed as an unfinished
attempt and shunts an entry past the limit, and waiting through a restart is no failed
attempt.  A crash leaves the entries claimed, and the queue puts them back at start-up.
"""

from __future__ import annotations

import heapq
import time
from email.message import Message
from typing import Any

from posthorn.interfaces.lists import IMailingList
from posthorn.queues import BadEntry, EntryGone
from posthorn.runners.base import ExitCode, Runner
from posthorn.site import Site

__all__ = ["RetryRunner"]


class RetryRunner(Runner):
    def __init__(self, site: Site, name: str, *, slice: int = 0, count: int = 1) -> None:
        super().__init__(site, name, slice=slice, count=count)
        # (due, filebase, raw message, msgdata) of the entries claimed but not yet due.
        self._held: list[tuple[float, str, bytes, dict[str, Any]]] = []

    def process(self, mlist: IMailingList | None, msg: Message, msgdata: dict[str, Any]) -> None:
        raise NotImplementedError("the retry runner moves entries in its own loop")

    def run_once(self) -> int:
        """Take every new entry; return those due at once (tests: drain)."""
        taken = 0
        for filebase in self.switchboard.get_files():
            taken += self._take(filebase)
        self._release_due()
        return taken

    def _loop(self) -> ExitCode:
        while not self._should_stop():
            self.run_once()
            timeout = self.sleep_time
            if self._held:
                timeout = max(0.0, min(timeout, self._held[0][0] - time.time()))
            if timeout > 0:
                self._wait_for(timeout)
        self._put_back_held()
        return ExitCode.OK

    def _wait_for(self, timeout: float) -> None:
        saved, self.sleep_time = self.sleep_time, timeout
        try:
            self._wait()
        finally:
            self.sleep_time = saved

    def _take(self, filebase: str) -> int:
        try:
            raw, msgdata = self.switchboard.dequeue_raw(filebase)
        except (BadEntry, EntryGone):
            return 0
        due = float(msgdata.get("retry_after") or 0)
        heapq.heappush(self._held, (due, filebase, raw, msgdata))
        return 1

    def _put_back_held(self) -> None:
        # Each is written again, durably, before its claim is dropped: a crash in
        # between leaves both, and the entry is only returned to its queue twice.
        count = len(self._held)
        while self._held:
            _, filebase, raw, msgdata = heapq.heappop(self._held)
            self.switchboard.enqueue(raw, msgdata)
            self.switchboard.finish(filebase)
        if count:
            self.log.info("put back %d entries not yet due", count)

    def _release_due(self) -> None:
        now = time.time()
        while self._held and self._held[0][0] <= now:
            _, filebase, raw, msgdata = heapq.heappop(self._held)
            target = str(msgdata.get("retry_queue") or "outgoing")
            self.queue(target).enqueue(raw, msgdata)
            self.switchboard.finish(filebase)
            self.log.info("%s: back to %s (retry %s)", filebase, target, msgdata.get("retries"))
