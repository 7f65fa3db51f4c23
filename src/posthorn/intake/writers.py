"""The threads that write queue entries for the LMTP runner: a queue and a few threads.

A ``concurrent.futures`` pool costs the event loop, per message, a Future, a work item,
two locks and a semaphore taken on submit and given back by the thread; nobody waits on
that Future (the writer answers through the group commit), so here a job is one ``put``
on a ``SimpleQueue`` that every thread reads.  A thread starts when a job comes and none
is free, up to ``count``: one LMTP client keeps one or two busy, and every thread more
is a stack, a malloc arena and more contention for the interpreter lock.  They are not
daemons: a process that exits lets them finish the jobs handed to them.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["Writers"]

Job = tuple[Callable[..., None], tuple[Any, ...]]


class Writers:
    """``count`` threads running the jobs given to ``submit``, each once, as they come."""

    def __init__(self, count: int, name: str, log: logging.Logger) -> None:
        self._count = count
        self._name = name
        self._log = log
        self._jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        # Jobs given and not yet finished; a job given when this reaches the number of
        # threads finds none free.  Read and written under _lock.
        self._unfinished = 0
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, function: Callable[..., None], *args: Any) -> None:
        """Run ``function(*args)`` in one of the threads; what it raises is logged."""
        if self._closed:
            raise RuntimeError("the writers are closed")
        with self._lock:
            self._unfinished += 1
            none_free = self._unfinished > len(self._threads)
            if none_free and len(self._threads) < self._count:
                name = f"{self._name}_{len(self._threads)}"
                thread = threading.Thread(target=self._run, name=name)
                thread.start()
                self._threads.append(thread)
        self._jobs.put((function, args))

    def close(self) -> None:
        """Let the threads finish the jobs given, then end; do not wait for them."""
        self._closed = True
        with self._lock:
            for _ in self._threads:
                self._jobs.put(None)

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            function, args = job
            try:
                function(*args)
            except Exception:
                self._log.exception("a writer's job failed")
            with self._lock:
                self._unfinished -= 1
            # Not kept while waiting for the next job: it holds a whole message.
            del job, function, args
