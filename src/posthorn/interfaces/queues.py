"""ISwitchboard: what a runner may ask of a queue, whatever stores it.

The filesystem Switchboard (``posthorn.queues.Switchboard``) satisfies this protocol
structurally; a broker-backed queue must too, so nothing here speaks of paths, renames
or file suffixes.  Entries are named by an opaque ``filebase`` string that sorts by
arrival.  The exceptions named below live in ``posthorn.queues.errors``
(``BadEntry``, ``EntryGone``), which every backend raises.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from email.message import Message
from email.policy import Policy
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, Self, runtime_checkable

if TYPE_CHECKING:
    from posthorn.queues.admin import EntryInfo, StoredEntry


@runtime_checkable
class IQueueEntry(Protocol):
    """One entry as a status listing shows it."""

    @property
    def filebase(self) -> str: ...

    @property
    def state(self) -> str:
        """``"queued"`` (waiting) or ``"claimed"`` (being processed, or left by a crash)."""
        ...

    @property
    def size(self) -> int:
        """Bytes the entry takes in storage."""
        ...

    @property
    def mtime(self) -> float:
        """When the entry was last written, in seconds since the epoch."""
        ...


@runtime_checkable
class ISwitchboard(Protocol):
    """A durable queue of (message, metadata) entries shared by 2^k reader slices.

    Delivery is at least once: an entry whose reader dies before ``finish`` is handed
    out again after ``recover_backup_files``.  Metadata holds built-in types only
    (str, int, float, bool, None, bytes, list, tuple, dict), so entries survive
    upgrades.  The queue maintains the keys ``version``, ``received_time`` (set if
    absent), ``whichq`` (the queue's name), ``queue_attempts`` and ``shunt_reason``.
    """

    @property
    def name(self) -> str:
        """The queue's name, as recorded in ``whichq`` (e.g. ``"incoming"``)."""
        ...

    def enqueue(
        self,
        msg: bytes | bytearray | Message,
        msgdata: Mapping[str, Any] | None = None,
        *,
        durable: bool = True,
        **extra: Any,
    ) -> str:
        """Store ``msg`` with ``msgdata`` updated by ``extra``; return its filebase.

        When this returns with ``durable`` true, the entry survives a crash or power
        cut, so the caller may report the message accepted.  With ``durable`` false the
        entry is visible to readers but durable only after the next ``sync()`` -- the
        way several writers share one commit.  Raises TypeError for metadata that is not
        built of built-in types, before anything is stored.
        """
        ...

    def enqueue_many(
        self, items: Iterable[tuple[bytes | bytearray | Message, Mapping[str, Any] | None]]
    ) -> list[str]:
        """Enqueue several (msg, msgdata) pairs with one commit; return their filebases.

        Every item is checked before any is stored.  When this returns, all are durable.
        """
        ...

    def sync(self) -> None:
        """Make every entry enqueued so far with ``durable=False`` durable."""
        ...

    @property
    def files(self) -> list[str]:
        """Same as ``get_files()``."""
        ...

    def get_files(self) -> list[str]:
        """Filebases waiting in this reader's slice, oldest first."""
        ...

    def dequeue(self, filebase: str) -> tuple[Message, dict[str, Any]]:
        """Claim the entry and return the parsed message and its metadata.

        Raises EntryGone if it is no longer there, and BadEntry if it cannot be
        loaded; a bad entry has already been moved aside (``bad``) and logged, so the
        caller only skips it.  A claimed entry stays claimed until ``finish``.
        """
        ...

    def dequeue_raw(self, filebase: str) -> tuple[bytes, dict[str, Any]]:
        """Like ``dequeue``, but hand back the message bytes unparsed."""
        ...

    def finish(self, filebase: str, *, preserve: bool = False, reason: str | None = None) -> None:
        """Drop a claimed entry, or with ``preserve`` set it aside in ``shunt``.

        A shunted entry keeps its metadata plus ``whichq`` and ``shunt_reason``, so
        ``unshunt`` can send it back.  Raises EntryGone if the entry is not claimed.
        """
        ...

    def recover_backup_files(self) -> int:
        """Queue again the entries of this slice left claimed by a dead reader.

        Each gets ``queue_attempts`` raised by one; an entry that has had
        ``max_attempts`` tries is shunted instead, and an unloadable one goes to bad.
        Call it once at start, before reading.  Returns how many were queued again.
        """
        ...

    def unshunt(self) -> list[tuple[str, str]]:
        """On the shunt queue: send every entry back to the queue named in its ``whichq``.

        The attempt counter and reason are dropped.  Returns (filebase, queue name) for
        each entry moved; entries without a usable ``whichq`` stay and are logged.
        """
        ...

    def count(self) -> int:
        """Entries waiting in the whole queue (every slice)."""
        ...

    def oldest_age(self) -> float | None:
        """Seconds since the oldest waiting entry first arrived (None: queue empty).

        An entry queued again (recovered, unshunted) keeps its first arrival time.
        """
        ...

    def entries(self) -> Sequence[IQueueEntry]:
        """Every waiting or claimed entry of the whole queue, oldest first."""
        ...

    def claimed_since(self) -> float | None:
        """When this slice's entry being processed was claimed (epoch seconds: the newest
        claim; a batch's earlier claims are done), or None: nothing claimed, or a backend
        that cannot tell (the watchdog then skips it)."""
        ...

    def wait(self, timeout: float, stop_fd: int | None = None) -> bool:
        """Block until this slice has an entry (True), or ``timeout`` seconds pass or
        ``stop_fd`` becomes readable (False).

        New entries from any process end the wait within milliseconds; a backend that
        cannot be notified waits out the timeout and then looks.
        """
        ...

    def close(self) -> None:
        """Release what waiting holds (descriptors, connections); the queue stays usable."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...


@runtime_checkable
class IQueueStore(Protocol):
    """Every queue of one site on one backend: makes them, counts them, lists them.

    ``posthorn.queuing.queue_store`` gives the configured one.  Entries are named by
    their id (the ``filebase``); the single-entry actions raise ``QueueError`` with a
    sentence for a person when they cannot be done.
    """

    @property
    def backend(self) -> str:
        """The backend's name as ``[queues] backend`` spells it."""
        ...

    def open(
        self,
        name: str,
        *,
        slice: int = 0,
        count: int = 1,
        max_attempts: int = 3,
        prefetch: int = 0,
        logger: logging.Logger | None = None,
        policy: Policy[Any] = ...,
    ) -> ISwitchboard:
        """Queue ``name``; for a reader, its ``slice`` of ``count`` and how many entries
        it may hold unfinished (``prefetch``, where the backend pushes entries)."""
        ...

    def exists(self, name: str) -> bool:
        """True once queue ``name`` has been made (looking never makes it)."""
        ...

    def names(self) -> list[str]:
        """The queues this store knows to exist, sorted."""
        ...

    def location(self, name: str) -> str:
        """Where queue ``name`` lives, for a person (a folder, a broker queue)."""
        ...

    def waiting(self, name: str) -> list[str]:
        """The ids of the entries waiting in ``name``, oldest first."""
        ...

    def depth(self, name: str, *, slice: int = 0, count: int = 1) -> int:
        """How many entries wait in one reader's slice of ``name``."""
        ...

    def remove(self, name: str, entry_id: str) -> bool:
        """Drop the waiting entry ``entry_id`` of ``name``; False if it is not there."""
        ...

    def list_entries(self, names: list[str]) -> list[EntryInfo]:
        """Every entry of the named queues, oldest first (``posthorn queue list``)."""
        ...

    def scan(self) -> Iterator[StoredEntry]:
        """Every loadable entry of every queue, loaded without claiming it."""
        ...

    def peek(self, entry_id: str) -> tuple[bytes, dict[str, Any]]:
        """One entry, by id, loaded without claiming it."""
        ...

    def delete(self, entry_id: str) -> str:
        """Remove the entry for good; return the queue it was in."""
        ...

    def hold(self, entry_id: str) -> str:
        """Move the entry to queue ``hold``; return the queue it was in."""
        ...

    def release(self, entry_id: str) -> str:
        """Send a held entry back to its queue; return that queue."""
        ...

    def requeue(self, entry_id: str, to: str | None = None) -> tuple[str, str]:
        """Send the entry to ``to`` (default: its own queue) afresh; return (from, to)."""
        ...

    def close(self) -> None:
        """Release connections; the store stays usable."""
        ...
