"""The Switchboard: one queue directory, written by anyone, read by 2^k slices.

An entry is one file ``<time>+<sha1 hex>.pck`` (see ``naming``) holding a version line,
the metadata dict and the message bytes (see ``entry``).  Its life:

- enqueue: written under a temporary name, fsynced, renamed to ``.pck``, directory
  fsynced (see ``files``).  Only then does the enqueue return, so a caller may report
  the message accepted.
- dequeue: renamed ``.pck`` -> ``.bak`` before it is read.  The rename is the claim:
  the entry leaves every reader's listing at once, and if the reader dies the ``.bak``
  stays behind as the record of unfinished work.
- finish: the ``.bak`` is kept as a spare file for a later entry of the queue, written
  over in place once that is safe (see ``spares``: creating files is dear) or removed,
  or with ``preserve`` moved to ``shunt``.
- recover_backup_files, at a reader's start: first ``tidy`` (``quarantine``: what is
  not a regular file of ours goes to ``bad``, a dead writer's ``.tmp`` is removed);
  then every ``.bak`` of its slice is queued again
  with its attempt counter raised; an entry that has had ``max_attempts`` tries goes to
  ``shunt`` instead.  ``unshunt`` puts shunted entries back where they came from.
- anything that cannot be loaded goes to ``bad``, with the reason logged.

Delivery is at least once: a crash after the work is done but before ``finish`` (or
before the removal reaches the disk) delivers the entry again.

The message travels as bytes; ``entry`` gives the measurements behind that choice.
``dequeue`` parses with the Switchboard's policy (compat32 by default); ``dequeue_raw``
hands back the bytes.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping
from email.message import Message
from email.policy import Policy, compat32
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import IO, Any, NoReturn, Self

from posthorn.queues.entry import (
    FORMAT_VERSION,
    FormatError,
    check_metadata,
    encode,
    message_length,
    read_entry,
    read_message,
    read_metadata,
    write_entry,
)
from posthorn.queues.errors import BadEntry, EntryGone
from posthorn.queues.files import (
    UnsafeFile,
    ensure_private_dir,
    fsync_dir,
    move_file,
    open_private,
    write_durable,
)
from posthorn.queues.listing import CLAIMED, QUEUED, QueueListing
from posthorn.queues.naming import is_power_of_two, is_queue_name, make_filebase, slice_of
from posthorn.queues.parsing import message_parser
from posthorn.queues.quarantine import tidy_queue
from posthorn.queues.spares import Spares
from posthorn.queues.wakeup import DirectoryWatcher

# Metadata keys the queue itself maintains.
VERSION_KEY = "version"
RECEIVED_KEY = "received_time"
WHICHQ_KEY = "whichq"
# Per stay in one queue; enqueue drops them, so they never follow a message onwards.
ATTEMPTS_KEY = "queue_attempts"
REASON_KEY = "shunt_reason"


MessageInput = bytes | bytearray | Message


class Switchboard(QueueListing):
    """One queue directory; with ``count`` > 1, only the entries of slice ``slice``."""

    def __init__(
        self,
        queue_dir: str | Path,
        *,
        name: str | None = None,
        slice: int = 0,
        count: int = 1,
        max_attempts: int = 3,
        shunt_dir: str | Path | None = None,
        bad_dir: str | Path | None = None,
        logger: logging.Logger | None = None,
        policy: Policy[Any] = compat32,
    ) -> None:
        if not is_power_of_two(count):
            raise ValueError(f"count must be a power of two, not {count}")
        if not 0 <= slice < count:
            raise ValueError(f"slice must be in [0, {count}), not {slice}")
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, not {max_attempts}")
        self.queue_dir = Path(queue_dir)
        self.name = name or self.queue_dir.name
        self.slice = slice
        self.slice_count = count
        self.max_attempts = max_attempts
        self.shunt_dir = Path(shunt_dir) if shunt_dir else self.queue_dir.parent / "shunt"
        self.bad_dir = Path(bad_dir) if bad_dir else self.queue_dir.parent / "bad"
        self.policy = policy
        self._log = logger or logging.getLogger("posthorn.queues")
        self._watcher: DirectoryWatcher | None = None
        self._watcher_pid = 0
        self._spares = Spares(self.queue_dir)
        ensure_private_dir(self.queue_dir)

    def __repr__(self) -> str:
        return f"<Switchboard {self.name} {self.slice}/{self.slice_count} at {self.queue_dir}>"

    # -- writing ----------------------------------------------------------------------

    def enqueue(
        self,
        msg: MessageInput,
        msgdata: Mapping[str, Any] | None = None,
        *,
        durable: bool = True,
        **extra: Any,
    ) -> str:
        filebase, content = self._prepare(msg, msgdata, extra)
        self._write(filebase, content)
        if durable:
            self.sync()
        return filebase

    def enqueue_many(
        self, items: Iterable[tuple[MessageInput, Mapping[str, Any] | None]]
    ) -> list[str]:
        # Check every item before writing any, so bad metadata cannot leave half a batch.
        prepared = [self._prepare(msg, msgdata, {}) for msg, msgdata in items]
        try:
            for filebase, content in prepared:
                self._write(filebase, content)
        finally:
            # One directory fsync makes every rename before it durable.
            self.sync()
        return [filebase for filebase, _ in prepared]

    def sync(self) -> None:
        number = self._spares.syncing()
        fsync_dir(self.queue_dir)
        self._spares.synced(number)

    def _write(self, filebase: str, content: Callable[[IO[bytes]], None]) -> None:
        """Write an entry, fsynced but its directory not; take a spare for a later one.

        The spare is taken before the caller's directory fsync, which then covers the
        take as well as this entry (see ``spares``).
        """
        write_durable(self.queue_dir, filebase + QUEUED, content, sync_dir=False,
                      reuse=self._spares.reserved)  # fmt: skip
        self._spares.reserve()

    def _prepare(
        self, msg: MessageInput, msgdata: Mapping[str, Any] | None, extra: Mapping[str, Any]
    ) -> tuple[str, Callable[[IO[bytes]], None]]:
        """The entry's name, and a function that writes it (``write_entry``)."""
        if not isinstance(msg, bytes | bytearray | Message):
            raise TypeError(
                f"message must be bytes or email.message.Message, not {type(msg).__name__}"
            )
        metadata = dict(msgdata or {})
        metadata.update(extra)
        metadata.pop(ATTEMPTS_KEY, None)
        metadata.pop(REASON_KEY, None)
        metadata[VERSION_KEY] = FORMAT_VERSION
        # An entry parked for a person (queue ``dead``) names where ``unshunt`` returns it.
        metadata[WHICHQ_KEY] = extra.get(WHICHQ_KEY, self.name)
        metadata.setdefault(RECEIVED_KEY, time.time())
        check_metadata(metadata)
        # A parsed message is generated straight into its file, so it has no bytes to
        # hash yet; the time, host, process and counter keep its name unique anyway.
        data = msg if isinstance(msg, bytes | bytearray) else b""
        return make_filebase(data, time.time_ns()), partial(write_entry, msg=msg, msgdata=metadata)

    # -- reading ----------------------------------------------------------------------

    @property
    def files(self) -> list[str]:
        return self.get_files()

    def get_files(self) -> list[str]:
        return self._names(QUEUED)

    def owns(self, filebase: str) -> bool:
        """True if ``filebase`` falls in this reader's slice."""
        return slice_of(filebase, self.slice_count) == self.slice

    def dequeue(self, filebase: str) -> tuple[Message, dict[str, Any]]:
        # Parsed as it is read, a slice at a time: the message's bytes are never all
        # in memory beside the parsed message.
        path = self._claim(filebase)
        try:
            with open_private(path) as fp:
                msgdata = read_metadata(fp)
                parser = message_parser(self.policy)
                for piece in read_message(fp, message_length(fp)):
                    parser.feed(piece)
                msg = parser.close()
        except FileNotFoundError:
            raise EntryGone(filebase) from None
        except (UnsafeFile, FormatError) as error:
            self._reject(path, filebase, str(error))
        except OSError:
            raise
        except Exception as error:
            self._reject(path, filebase, f"unparsable message: {error}")
        return msg, msgdata

    def dequeue_raw(self, filebase: str) -> tuple[bytes, dict[str, Any]]:
        return self._load(self._claim(filebase), filebase)

    def _claim(self, filebase: str) -> Path:
        """Rename the entry to ``.bak`` (see the module docstring); return its new path."""
        try:
            os.rename(self._path(filebase, QUEUED), self._path(filebase, CLAIMED))
        except FileNotFoundError:
            raise EntryGone(filebase) from None
        except OSError as error:
            # A directory cannot replace a file of the claimed name, nor a file a
            # directory: whatever it is, it is no entry.
            self._reject(self._path(filebase, QUEUED), filebase, f"cannot claim it: {error}")
        return self._path(filebase, CLAIMED)

    def finish(self, filebase: str, *, preserve: bool = False, reason: str | None = None) -> None:
        claimed = self._path(filebase, CLAIMED)
        if not preserve:
            # No directory fsync: if a power cut undoes the rename, the entry is only
            # delivered again, and the cost of an fsync per message is saved.
            try:
                self._spares.retire(claimed)
            except FileNotFoundError:
                raise EntryGone(filebase) from None
            return
        data, msgdata = self._load(claimed, filebase)
        self._shunt(claimed, filebase, data, msgdata, reason or "preserved by its reader")

    def _shunt(
        self, path: Path, filebase: str, data: bytes, msgdata: dict[str, Any], reason: str
    ) -> None:
        msgdata.setdefault(WHICHQ_KEY, self.name)
        msgdata[REASON_KEY] = reason
        # The shunt copy is rewritten rather than renamed so it carries its reason; it is
        # durable before the original goes.
        ensure_private_dir(self.shunt_dir)
        write_durable(self.shunt_dir, filebase + QUEUED, encode(data, msgdata))
        os.unlink(path)
        self._log.error("%s: shunted %s: %s", self.name, filebase, reason)

    def recover_backup_files(self) -> int:
        self.tidy()
        requeued = 0
        for filebase in self._names(CLAIMED):
            claimed = self._path(filebase, CLAIMED)
            try:
                data, msgdata = self._load(claimed, filebase)
            except (BadEntry, EntryGone):
                continue
            previous = msgdata.get(ATTEMPTS_KEY, 0)
            attempts = (previous if type(previous) is int else 0) + 1
            msgdata[ATTEMPTS_KEY] = attempts
            if attempts >= self.max_attempts:
                reason = f"gave up after {attempts} unfinished attempts"
                self._shunt(claimed, filebase, data, msgdata, reason)
                continue
            # Write the new .pck durably before dropping the .bak: a crash in between
            # leaves both, and the next recovery simply rewrites the same .pck.
            write_durable(self.queue_dir, filebase + QUEUED, encode(data, msgdata))
            os.unlink(claimed)
            requeued += 1
            self._log.warning("%s: requeued %s (attempt %d)", self.name, filebase, attempts)
        return requeued

    def tidy(self) -> int:
        """Set aside what is not an entry; remove dead writers' temporary files.

        Runs at the start of ``recover_backup_files``; see ``quarantine``.
        """
        return tidy_queue(
            self.queue_dir, self.bad_dir, owns=self.owns, log=self._log, name=self.name
        )

    def unshunt(self, queue_root: str | Path | None = None) -> list[tuple[str, str]]:
        root = Path(queue_root) if queue_root else self.queue_dir.parent
        moved: list[tuple[str, str]] = []
        for filebase in self._names(QUEUED, every_slice=True):
            path = self._path(filebase, QUEUED)
            try:
                data, msgdata = self._load(path, filebase)
            except (BadEntry, EntryGone):
                continue
            whichq = msgdata.get(WHICHQ_KEY)
            # The name becomes a path: anything but a plain queue name (an absolute path,
            # "..") or this very queue is refused.
            if not is_queue_name(whichq):
                self._log.error("%s: cannot unshunt %s: bad queue %r", self.name, filebase, whichq)
                continue
            target = root / whichq
            if target == self.queue_dir:
                self._log.error("%s: cannot unshunt %s into itself", self.name, filebase)
                continue
            msgdata.pop(ATTEMPTS_KEY, None)
            msgdata.pop(REASON_KEY, None)
            # Same name in the old queue: it keeps its place in line and its slice, and
            # a crash before the unlink below only rewrites the same entry next time.
            ensure_private_dir(target)
            write_durable(target, filebase + QUEUED, encode(data, msgdata))
            os.unlink(path)
            moved.append((filebase, whichq))
            self._log.warning("%s: unshunted %s to %s", self.name, filebase, whichq)
        return moved

    # -- waiting ----------------------------------------------------------------------

    def wait(self, timeout: float, stop_fd: int | None = None) -> bool:
        watcher = self._current_watcher()
        deadline = time.monotonic() + timeout
        while True:
            # Events consumed here are for entries the listing below will show; an
            # entry renamed in after the listing raises a fresh event, so none is missed.
            watcher.drain()
            if self.get_files():
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not watcher.wait(remaining, stop_fd):
                return False
            # Every entry of an unsliced queue is its reader's: the caller lists it
            # next, so listing it here too would only cost a second listing per entry.
            if self.slice_count == 1:
                return True

    def _current_watcher(self) -> DirectoryWatcher:
        # A forked child must not share its parent's inotify descriptor: whichever
        # process read first would take the other's events.
        if self._watcher is None or self._watcher_pid != os.getpid():
            if self._watcher is not None:
                self._watcher.close()
            self._watcher = DirectoryWatcher(self.queue_dir, suffix=QUEUED, logger=self._log)
            self._watcher_pid = os.getpid()
        return self._watcher

    def close(self) -> None:
        self._spares.release()
        if self._watcher is not None:
            self._watcher.close()
            self._watcher = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- helpers ----------------------------------------------------------------------

    def _names(self, suffix: str, *, every_slice: bool = False) -> list[str]:
        names = [n[: -len(suffix)] for n in self._listdir() if n.endswith(suffix)]
        if not every_slice and self.slice_count > 1:
            names = [filebase for filebase in names if self.owns(filebase)]
        # The time comes first in every name, so name order is arrival order.
        names.sort()
        return names

    def _load(self, path: Path, filebase: str) -> tuple[bytes, dict[str, Any]]:
        try:
            with open_private(path) as fp:
                return read_entry(fp)
        except FileNotFoundError:
            raise EntryGone(filebase) from None
        except (UnsafeFile, FormatError) as error:
            self._reject(path, filebase, str(error))

    def _reject(self, path: Path, filebase: str, reason: str) -> NoReturn:
        try:
            target = move_file(path, self.bad_dir, filebase + QUEUED)
        except OSError as error:
            self._log.error("%s: bad entry %s: %s; cannot move it to %s (%s), left in place",
                            self.name, filebase, reason, self.bad_dir, error)  # fmt: skip
        else:
            self._log.error("%s: bad entry %s: %s; moved to %s", self.name, filebase, reason,
                            target)  # fmt: skip
        raise BadEntry(filebase, reason)
