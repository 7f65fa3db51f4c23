"""The runner base classes: the loop, signals, waking and recovery live here.

A queue runner (``Runner``) owns only ``process(mlist, msg, msgdata)``; a service
(``ServiceRunner``) owns only ``async serve(stopping)``.  Everything a runner process
needs besides -- reading its slice of the queue, shunting what fails, stopping cleanly
on SIGTERM, reopening its log on SIGHUP, exiting when its master dies -- is here, once.
The contract is written down in ``docs/runners.md``.

The body of a runner process is ``posthorn.runners.process.run_runner``.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import os
import signal
import time
from email.message import Message
from functools import cached_property
from typing import Any, ClassVar

from posthorn.config import Config
from posthorn.interfaces.lists import IMailingList
from posthorn.interfaces.queues import IQueueStore, ISwitchboard
from posthorn.logs import reopen_logs
from posthorn.messages.folding import CACHED_COMPAT32
from posthorn.queues import BadEntry, EntryGone
from posthorn.queuing import queue_store
from posthorn.runners.retrying import (
    DATABASE_UNAVAILABLE,
    RETRY_QUEUE,
    RetryLater,
    database_retry,
    retry_metadata,
)
from posthorn.runners.signals import SignalFlags
from posthorn.site import Site
from posthorn.stopping import StopRequested

__all__ = ["BaseRunner", "ExitCode", "RetryLater", "Runner", "ServiceRunner"]


class ExitCode(enum.IntEnum):
    """What a runner's exit status tells the master (see docs/runners.md)."""

    OK = 0  # stopped on request, or its master is gone: not restarted
    TEMPFAIL = 75  # something it needs is unavailable for now: restarted after a pause
    CONFIG = 78  # its configuration is wrong: restarting cannot help
    RECYCLE = 79  # max_messages or max_idle reached: restarted at once, not counted as a crash


class _ListGone(Exception):
    """The entry names a list that no longer exists: nobody can process it."""


class BaseRunner:
    """What every runner gets: its site, name, section, logger and the queues.

    ``master_pid`` is set by ``run_runner`` to the master that forked this process; a
    runner constructed directly (in a test) has none and never checks for one.
    """

    def __init__(self, site: Site, name: str, *, slice: int = 0, count: int = 1) -> None:
        self.site = site
        self.name = name
        self.slice = slice
        self.count = count
        self.section = site.config.runner(name)
        self.log = logging.getLogger(f"posthorn.{name}")
        self.sleep_time = self.section.get_float("sleep_time")
        self.master_pid: int | None = None
        self._queues: dict[str, ISwitchboard] = {}
        # While a batch of entries is in hand, enqueued files are fsynced but their
        # directories only once, before the entries are finished (see
        # Runner._process_batch): one directory sync per queue and batch instead of one
        # per message written.
        self._deferring = False
        self._unsynced: set[str] = set()

    @cached_property
    def queue_store(self) -> IQueueStore:
        """The site's queues, on the configured backend."""
        return queue_store(self.site.config)

    def queue(self, name: str) -> ISwitchboard:
        """Queue ``name`` (for writing; it is not this runner's slice)."""
        if name not in self._queues:
            self._queues[name] = self.queue_store.open(name, logger=self.log)
        return self._queues[name]

    def enqueue(
        self,
        queue_name: str,
        msg: Message | bytes,
        msgdata: dict[str, Any] | None = None,
        **extra: Any,
    ) -> str:
        """Put a message on another queue (durably, before this entry is finished).

        ``extra`` is metadata the switchboard itself keeps (``whichq`` of a parked entry).
        """
        if not self._deferring:
            return self.queue(queue_name).enqueue(msg, msgdata, **extra)
        self._unsynced.add(queue_name)
        return self.queue(queue_name).enqueue(msg, msgdata, durable=False, **extra)

    def _sync_enqueued(self) -> None:
        """Make every message enqueued for the entries in hand durable."""
        while self._unsynced:
            self.queue(self._unsynced.pop()).sync()

    def master_gone(self) -> bool:
        """True once the master that started this runner has died."""
        return self.master_pid is not None and os.getppid() != self.master_pid

    @classmethod
    def check_config(cls, config: Config) -> None:
        """Raise ConfigError for settings this runner cannot work with (run by start)."""

    def run(self) -> ExitCode:
        """Run until asked to stop; the exit code tells the master what to do next."""
        raise NotImplementedError

    def close(self) -> None:
        for switchboard in self._queues.values():
            switchboard.close()
        if "queue_store" in self.__dict__:
            self.queue_store.close()


class Runner(SignalFlags, BaseRunner):
    """A queue runner: processes its slice of ``var/queue/NAME/``, one entry at a time."""

    #: The queue this runner reads; by default the runner's own name.
    queue_name: ClassVar[str | None] = None
    #: Whether a looked-up list is kept until the database changes (see ``_find_list``).
    #: The message-path runners keep it; runners that act on settings a person just
    #: changed (subscription policy, say) look the list up each time.
    list_cache: ClassVar[bool] = False

    def __init__(self, site: Site, name: str, *, slice: int = 0, count: int = 1) -> None:
        super().__init__(site, name, slice=slice, count=count)
        self.max_messages = self.section.get_int("max_messages")
        self.max_idle = self.section.get_float("max_idle")
        self.batch_size = max(self.section.get_int("batch_size"), 1)
        self._stopping = False  # set by SIGTERM/SIGINT
        self._stopped = False  # the loop has decided to stop
        self._reopen = False  # set by SIGHUP
        self._wake_fds: tuple[int, int] | None = None

    def process(self, mlist: IMailingList | None, msg: Message, msgdata: dict[str, Any]) -> None:
        """Handle one entry.  Return to finish it; raise to shunt it (or RetryLater)."""
        raise NotImplementedError

    def periodic(self) -> float | None:
        """Work due by the clock, run between entries; seconds until it is due again.

        None (the default): nothing periodic, the runner waits ``sleep_time``.
        """
        return None

    @cached_property
    def switchboard(self) -> ISwitchboard:
        """This runner's own queue, restricted to its slice."""
        return self.queue_store.open(
            self.queue_name or self.name,
            slice=self.slice,
            count=self.count,
            # Entries the broker may hand this reader ahead (amqp backend; 0: a batch).
            prefetch=self.section.get_int("prefetch") or self.batch_size,
            logger=self.log,
            # compat32, folding each distinct header once however often it is written.
            policy=CACHED_COMPAT32,
        )

    def run(self) -> ExitCode:
        self._install_signals()
        try:
            recovered = self.switchboard.recover_backup_files()
            if recovered:
                self.log.warning("requeued %d entries left unfinished", recovered)
            return self._loop()
        finally:
            self._remove_signals()

    def run_once(self) -> int:
        """Process every entry now in the slice; return how many (for tests: drain)."""
        # A drain sees the lists as they are now, whatever was cached before it.
        self.site.cache.clear()
        files = self.switchboard.get_files()
        for start in range(0, len(files), self.batch_size):
            self._process_batch(files[start : start + self.batch_size])
        return len(files)

    def close(self) -> None:
        if "switchboard" in self.__dict__:
            self.switchboard.close()
        super().close()

    def _loop(self) -> ExitCode:
        handled = 0
        last_entry = time.monotonic()
        while not self._should_stop():
            pause = self.periodic()
            files = self.switchboard.get_files()
            if files:
                last_entry = time.monotonic()
            elif handled and self.max_idle and time.monotonic() - last_entry >= self.max_idle:
                # The pages its work copied from the master go back; a fresh process
                # takes the next entry.
                self.log.info("idle for %gs after %d entries; exiting to be recycled",
                              self.max_idle, handled)  # fmt: skip
                return ExitCode.RECYCLE
            start = 0
            while start < len(files) and not self._should_stop():
                size = self.batch_size
                if self.max_messages:
                    size = min(size, self.max_messages - handled)
                batch = files[start : start + size]
                start += len(batch)
                self._process_batch(batch)
                handled += len(batch)
                if self.max_messages and handled >= self.max_messages:
                    self.log.info("handled %d entries; exiting to be recycled", handled)
                    return ExitCode.RECYCLE
            # Also after work: the wait lists the queue before it blocks, so what came
            # in meanwhile is taken at once, and the loop saves a listing per entry.
            if not self._stopped:
                self._wait(None if pause is None else max(0.01, min(self.sleep_time, pause)))
        return ExitCode.OK

    def _should_stop(self) -> bool:
        """Check between entries: reopen logs if asked, stop if asked or orphaned."""
        if self._reopen:
            self._reopen = False
            reopen_logs()
            self.log.info("reopened the log file")
        if self._stopped:
            return True
        if self._stopping:
            self.log.info("stopping on request")
        elif self.master_gone():
            # Another master may already run another set of runners on this queue.
            self.log.warning("master (pid %s) is gone; stopping", self.master_pid)
        else:
            return False
        self._stopped = True
        return True

    def _wait(self, timeout: float | None = None) -> None:
        """Sleep until an entry arrives, a signal comes, or ``timeout`` (sleep_time) passes."""
        stop_fd = self._wake_fds[0] if self._wake_fds else None
        self.switchboard.wait(self.sleep_time if timeout is None else timeout, stop_fd)
        if stop_fd is not None:
            with contextlib.suppress(BlockingIOError):
                while os.read(stop_fd, 512):
                    pass

    def _process_entry(self, filebase: str) -> None:
        self._process_batch([filebase])

    def _process_batch(self, filebases: list[str]) -> None:
        """Process entries as one group commit: their outputs are synced once, together.

        Every entry's outputs are written (each file fsynced) while it is processed, but
        each touched queue directory is fsynced only once, after the last entry of the
        batch; only then are the entries finished.  A crash before that leaves the
        batch's entries claimed, and recovery puts them back: up to ``batch_size`` entries
        may be processed twice, none is lost.
        """
        finishes: list[tuple[str, str | None]] = []
        self._deferring = True
        try:
            for filebase in filebases:
                try:
                    msg, msgdata = self.switchboard.dequeue(filebase)
                except BadEntry:
                    continue  # already moved to bad and logged by the switchboard
                except EntryGone:
                    continue  # another reader took it (or a person removed it)
                try:
                    finishes.append((filebase, self._handle(filebase, msg, msgdata)))
                except StopRequested as stop:  # in a wait: left claimed, as by a crash
                    self.log.warning("%s: %s; left for the next start", filebase, stop)
                    break
            self._sync_enqueued()
        finally:
            self._deferring = False
        for filebase, shunt_reason in finishes:
            try:
                self.switchboard.finish(filebase, preserve=shunt_reason is not None,
                                        reason=shunt_reason)  # fmt: skip
            except EntryGone:
                # Someone else recovered it (a second runner on this slice) or a person
                # removed it: the work is done, and the next entry must not wait.
                self.log.error("%s: gone before it was finished; going on", filebase)

    def _handle(self, filebase: str, msg: Message, msgdata: dict[str, Any]) -> str | None:
        """Process a dequeued entry; return why to shunt it, or None to finish it."""
        if not self.log.isEnabledFor(logging.DEBUG):
            return self._handle_entry(filebase, msg, msgdata)
        # The database work of one entry (one post): logged, to be compared across lists.
        from posthorn.database.counting import StatementCounter

        counter = StatementCounter.install()
        before = counter.count
        try:
            return self._handle_entry(filebase, msg, msgdata)
        finally:
            self.log.debug("%s: %d SQL statements", filebase, counter.count - before)

    def _handle_entry(self, filebase: str, msg: Message, msgdata: dict[str, Any]) -> str | None:
        try:
            # The change stamp read once per entry, when it is picked up (see pinned).
            with self.site.cache.pinned():
                self.process(self._find_list(msgdata), msg, msgdata)
        except _ListGone as gone:
            return str(gone)
        except RetryLater as retry:
            self._send_to_retry(filebase, msg, msgdata, retry)
        except DATABASE_UNAVAILABLE as error:
            self.log.warning("%s: database unavailable, will retry: %s", filebase, error)
            self._send_to_retry(filebase, msg, msgdata, database_retry(msgdata, error))
        except Exception as error:
            self.log.exception("%s: processing failed; shunting it", filebase)
            return f"{self.name}: {type(error).__name__}: {error}"
        return None

    def _find_list(self, msgdata: dict[str, Any]) -> IMailingList | None:
        """The entry's list; with ``list_cache``, kept until the database changes.

        A lookup is a database session (about half a millisecond on SQLite) and a post
        passes three queue runners, each looking its list up; posts to one list need it
        once until a setting changes (``site.cache``, ``database/changes.py``).  What
        must be exact per post (the post number) is read afresh by the handler that
        needs it.
        """
        list_id = msgdata.get("list_id")
        if not list_id:
            return None
        key = str(list_id)
        mlist: IMailingList | None
        if self.list_cache:
            mlist = self.site.cache.get(("list", key), lambda: self.site.lists.get(key))
        else:
            mlist = self.site.lists.get(key)
        if mlist is None:
            raise _ListGone(f"no such list: {list_id}")
        return mlist

    def _send_to_retry(
        self, filebase: str, msg: Message, msgdata: dict[str, Any], retry: RetryLater
    ) -> None:
        queue = self.queue_name or self.name
        self.enqueue(RETRY_QUEUE, msg, retry_metadata(msgdata, queue, retry))
        self.log.info("%s: will retry later: %s", filebase, retry.reason or "no reason given")


class ServiceRunner(BaseRunner):
    """A runner that serves (LMTP, REST) on its own asyncio loop instead of a queue."""

    async def serve(self, stopping: asyncio.Event) -> None:
        """Serve until ``stopping`` is set, then return (after closing what it opened)."""
        raise NotImplementedError

    def run(self) -> ExitCode:
        return asyncio.run(self._main())

    async def _main(self) -> ExitCode:
        loop = asyncio.get_running_loop()
        stopping = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stopping.set)
        loop.add_signal_handler(signal.SIGINT, stopping.set)
        loop.add_signal_handler(signal.SIGHUP, self._reopen)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGHUP})  # see Runner
        watcher = asyncio.create_task(self._watch_master(stopping))
        try:
            await self.serve(stopping)
        finally:
            watcher.cancel()
        return ExitCode.OK

    def _reopen(self) -> None:
        reopen_logs()
        self.log.info("reopened the log file")

    async def _watch_master(self, stopping: asyncio.Event) -> None:
        # PR_SET_PDEATHSIG normally delivers SIGTERM when the master dies; this check is
        # the backstop for the moment between fork and prctl.
        while not stopping.is_set():
            if self.master_gone():
                self.log.warning("master (pid %s) is gone; stopping", self.master_pid)
                stopping.set()
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), self.sleep_time)
