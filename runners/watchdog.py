"""The master's watchdog: find a runner that holds one entry for too long, and end it.

A handler that loops forever on one message never raises, so the runner's own
``except`` cannot shunt it and the master sees a live process.  Progress is therefore
watched from outside: the queue tells when a runner's entry in hand was claimed
(``claimed_since``: the newest claim, as a batch's earlier entries are done), and a
runner whose entry in hand is older than ``[runner.NAME] entry_timeout`` is killed with
SIGKILL (SIGTERM would wait for the entry in hand, which never ends).  The master
restarts it like any crashed runner; recovery counts the attempt on the entry, which
reaches ``shunt`` after its budget, so one poisonous message cannot stop a queue.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time

from posthorn.config import Config
from posthorn.interfaces.queues import ISwitchboard
from posthorn.queuing import queue_store
from posthorn.runners.slots import Slot

__all__ = ["Watchdog"]

# Checks happen at most this often, and at least a few times per timeout.
CHECK_INTERVAL_MAX = 1.0


class Watchdog:
    """Checks the queue runners' claims; ``due`` says when the next check is."""

    def __init__(self, config: Config, slots: list[Slot], log: logging.Logger) -> None:
        self.log = log
        self._boards: dict[int, tuple[ISwitchboard, float]] = {}
        timeouts = []
        store = queue_store(config)
        for index, slot in enumerate(slots):
            timeout = config.runner(slot.spec.name).get_float("entry_timeout")
            if slot.spec.queue is None or timeout <= 0:
                continue
            board = store.open(slot.spec.queue, slice=slot.slice, count=slot.spec.instances)
            self._boards[index] = (board, timeout)
            timeouts.append(timeout)
        self.interval = min([CHECK_INTERVAL_MAX, *(t / 4 for t in timeouts)])
        self.due = time.monotonic() + self.interval if timeouts else None

    def check(self, slots: list[Slot]) -> None:
        """Kill every running queue runner whose entry in hand is past its timeout."""
        if self.due is None or time.monotonic() < self.due:
            return
        self.due = time.monotonic() + self.interval
        now = time.time()
        for index, (board, timeout) in self._boards.items():
            slot = slots[index]
            if slot.pid is None or slot.started is None:
                continue
            claimed = board.claimed_since()
            if claimed is None:
                continue
            # A claim older than the process is a predecessor's, which this runner
            # recovers at start; its own clock starts when it did.
            held = now - max(claimed, slot.started)
            if held <= timeout:
                continue
            self.log.error(
                "%s (pid %d) has held an entry for %.1fs, over entry_timeout %.1fs; killing it",
                slot.label,
                slot.pid,
                held,
                timeout,
            )
            with contextlib.suppress(ProcessLookupError):
                os.kill(slot.pid, signal.SIGKILL)
