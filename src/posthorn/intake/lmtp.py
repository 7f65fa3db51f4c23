"""What the LMTP runner does with incoming mail: recipients at RCPT, the message at DATA.

RCPT: each address is parsed (``list_addresses``) and looked up.  A domain we do not serve
gets ``550 5.1.2``, an address that names no list ``550 5.1.1``, one recipient past
``[mta] max_recipients`` ``452 4.5.3``.  Look-ups run in one dedicated thread: the event
loop never waits for the database, and the database layer only ever sees one thread of
this process.  A failed look-up (database down) is ``451``: the MTA tries again later.

DATA: LMTP answers once per accepted recipient, in RCPT order.  First (off the loop
when it is large), the message is made safe to store: its line endings normalised, its
structure checked against the caps (``precheck``: ``554 5.6.0`` naming the limit, for
every recipient), and a Message-ID added if it has none.  Then every recipient gets its
own entry, on queue ``incoming`` (posting and ``-owner``), ``command`` or ``bounce``, with metadata:
``list_id``, ``subaddress``, ``original_recipient``, ``envelope_sender`` ("" for the null
sender), ``original_size`` (bytes as received), ``received_time`` (seconds since the
epoch) and the routing flags and data of ``Recipient.msgdata``.

A recipient gets 250 only when its entry is durable: the writing thread fsyncs the file,
and the queue directory is fsynced by a group commit (``commit``) shared by the writing
threads of concurrent sessions.  The event loop hands a message to a writer once and
waits for nothing but its answer.
A failure on our side -- disk full, permissions, a queue directory gone -- is 452 (no
space) or 451 for the recipients it hit, and the log says why; the MTA keeps the message
and retries.  But an entry too big for the queue ever to take (EFBIG) is 552, as retries
could only fail.  Nothing half-written stays behind: the queue writes aside first.

Bare CR and LF: aiosmtpd ends DATA only at CRLF "." CRLF, so a bare "\\n.\\n" cannot end
the message early.  What remains is normalised to CRLF, as Postfix's default
``smtpd_forbid_bare_newline = normalize`` does, so a smuggled "second message" stays
text inside the first, and every later reader splits the same lines.

A message the email package cannot parse is accepted and queued raw.  The precheck has
already refused what makes the parser recurse or drown, so what is left is a limit of
our parser, not something the sender could fix: a 5xx would bounce mail we can keep, a
4xx would make the MTA retry a certain failure for days.  The queue stores bytes
anyway, and a reader whose parse fails moves the entry to ``bad`` with the reason
(``Switchboard.dequeue``), where a person can see it and re-queue it after a fix.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.utils import make_msgid
from typing import Any, Protocol, TypeVar
from weakref import WeakKeyDictionary

from aiosmtpd.smtp import SMTP, Envelope, Session

from posthorn.intake.commit import GroupCommit
from posthorn.intake.list_addresses import InvalidRecipient, Recipient, parse_recipient
from posthorn.intake.precheck import (
    Limits,
    StructureError,
    check_structure,
    normalize_line_endings,
)
from posthorn.intake.writers import Writers
from posthorn.interfaces.domains import IDomainManager
from posthorn.interfaces.lists import IListManager
from posthorn.interfaces.queues import ISwitchboard

__all__ = ["Directory", "LMTPIntake", "Target"]

T = TypeVar("T")
NULL_SENDER = "<>"
PROCESSING_ERROR = "451 4.3.0 Error in processing, try again later"
# Seconds a list found at RCPT is remembered (as the queue runners remember theirs): a
# burst of mail to one list asks the database once.  Only lists found are remembered,
# so a new list is served at once; mail to a list removed within this window is
# accepted and then shunted by the incoming runner with "no such list", not lost.
LIST_CACHE_TTL = 1.0
# A message up to this size is made safe to store on the event loop itself: checking a
# small message costs less than handing it to a thread and back.
INLINE_PREPARE = 64 * 1024
# Threads writing entries.  They overlap their file fsyncs (on a journalled file system
# one journal commit serves every fsync waiting for it), but never wait for the
# directory fsync (``commit``), so one per session the MTA usually opens is plenty;
# more would only contend for the GIL and for the queue folder's lock, which every
# create and rename takes.
WRITERS = 16
# A message's entries: the queue and the metadata of each.
Entries = Sequence[tuple[str, dict[str, Any]]]


class Directory(Protocol):
    """Where lists and domains are looked up (a ``Site`` is one)."""

    @property
    def lists(self) -> IListManager: ...

    @property
    def domains(self) -> IDomainManager: ...


@dataclass(frozen=True)
class Target:
    """An accepted recipient: the parsed address and the list-id it resolved to."""

    recipient: Recipient
    list_id: str


class _Job:
    """One message's entries on their way to disk, and the event loop's wait for them."""

    __slots__ = ("answered", "entries", "loop", "pending", "results", "writing")

    def __init__(
        self, loop: asyncio.AbstractEventLoop, entries: Entries, writing: set[_Job]
    ) -> None:
        self.loop = loop
        self.entries = entries
        # The jobs not yet settled, this one among them until it is, answered or not.
        self.writing = writing
        writing.add(self)
        self.answered: asyncio.Future[list[str | Exception]] = loop.create_future()
        # Set by the writer: an entry's name or why it failed; the queues still to sync.
        self.results: list[str | Exception] = []
        self.pending: set[str] = set()

    def settle(self, name: str | None, error: Exception | None) -> None:
        """Queue ``name`` was synced, or failed to (on the event loop)."""
        if name is not None:
            if error is not None:
                for index, (queue_name, _) in enumerate(self.entries):
                    if queue_name == name and isinstance(self.results[index], str):
                        self.results[index] = error
            self.pending.discard(name)
        if not self.pending:
            self.writing.discard(self)
        if not self.pending and not self.answered.done():
            self.answered.set_result(self.results)


def _answer(waiters: list[tuple[_Job, str]], error: Exception | None) -> None:
    """Hand a directory fsync's outcome to the event loop, once for all it covered."""
    loops: dict[asyncio.AbstractEventLoop, list[tuple[_Job, str]]] = {}
    for waiter in waiters:
        loops.setdefault(waiter[0].loop, []).append(waiter)
    for loop, settled in loops.items():
        loop.call_soon_threadsafe(_settle, settled, error)


def _settle(waiters: list[tuple[_Job, str]], error: Exception | None) -> None:
    for job, name in waiters:
        job.settle(name, error)


class LMTPIntake:
    """The aiosmtpd handler: ``handle_EHLO`` (for LHLO), ``handle_RCPT`` and ``handle_DATA``.

    ``queue(name)`` returns the queue to write to; it is called in worker threads.
    """

    def __init__(
        self,
        directory: Directory,
        queue: Callable[[str], ISwitchboard],
        *,
        limits: Limits,
        max_recipients: int,
        hostname: str,
        log: logging.Logger,
        writers: int = WRITERS,
    ) -> None:
        self.directory = directory
        self.queue = queue
        self.limits = limits
        self.max_recipients = max_recipients
        self.hostname = hostname
        self.log = log
        # Messages being stored now, and an event set whenever there are none: a
        # stopping runner waits for it so that no stored message goes unanswered.
        self.busy = 0
        self.idle = asyncio.Event()
        self.idle.set()
        self.writing: set[_Job] = set()  # whose entries are being written or synced
        self._lookups = ThreadPoolExecutor(1, thread_name_prefix="lmtp-lookup")
        self._writers = Writers(writers, "lmtp-write", log)
        self._commits: dict[str, GroupCommit[tuple[_Job, str]]] = {}
        self._commits_lock = threading.Lock()
        self.stored = 0
        self._targets: WeakKeyDictionary[Envelope, list[Target]] = WeakKeyDictionary()
        # fqdn_listname -> (monotonic expiry, list-id); only the look-up thread writes
        # it, the event loop reads it to answer a list it knows without a thread hop.
        self._lists: dict[str, tuple[float, str]] = {}

    def close(self) -> None:
        self._lookups.shutdown(wait=False, cancel_futures=True)
        self._writers.close()

    @property
    def syncs(self) -> int:
        """Directory fsyncs so far; with ``stored``, how well group commit is doing."""
        return sum(commit.syncs for commit in list(self._commits.values()))

    def commits(self, name: str) -> GroupCommit[tuple[_Job, str]]:
        """The group commit of queue ``name`` (created on first use, by any writer)."""
        commit = self._commits.get(name)
        if commit is None:
            with self._commits_lock:
                commit = self._commits.get(name)
                if commit is None:
                    commit = GroupCommit(lambda: self.queue(name).sync(), _answer)
                    self._commits[name] = commit
        return commit

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        """The LHLO reply: aiosmtpd's extensions and PIPELINING, as one write.

        RFC 2033 asks every LMTP server for PIPELINING, and the MTA's LMTP client uses
        it when announced: MAIL, RCPT and DATA come in one packet and their replies go
        back together, two round trips per message where there were four.  Commands
        are read from one stream and handled one after another, so a pipelined
        transaction is handled exactly as one sent a command at a time.
        """
        session.host_name = hostname
        *extensions, last = responses
        return ["\r\n".join([*extensions, "250-PIPELINING", last])]

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if len(envelope.rcpt_tos) >= self.max_recipients:
            return f"452 4.5.3 Too many recipients (limit {self.max_recipients})"
        try:
            recipient = parse_recipient(address)
        except InvalidRecipient:
            return f"550 5.1.1 No such list: {address}"
        known = self._lists.get(recipient.fqdn_listname)
        try:
            if known is not None and known[0] > time.monotonic():
                found: Target | str = Target(recipient, known[1])
            else:
                found = await self._lookup(self._resolve, recipient)
        except Exception as error:
            self.log.error("RCPT %s: cannot look up the list: %s", address, error)
            return "451 4.3.0 Cannot look up the list now, try again later"
        if isinstance(found, str):
            return found
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        self._targets.setdefault(envelope, []).append(found)
        return "250 2.1.5 OK"

    def _resolve(self, recipient: Recipient) -> Target | str:
        """A Target, or the reply refusing the recipient (runs in the look-up thread)."""
        now = time.monotonic()
        known = self._lists.get(recipient.fqdn_listname)
        if known is not None and known[0] > now:
            return Target(recipient, known[1])
        mlist = self.directory.lists.get(recipient.fqdn_listname)
        if mlist is not None:
            if len(self._lists) >= 1024:
                self._lists.clear()
            self._lists[recipient.fqdn_listname] = (now + LIST_CACHE_TTL, mlist.list_id)
            return Target(recipient, mlist.list_id)
        self._lists.pop(recipient.fqdn_listname, None)
        # Only a refusal needs the domain, to say which part of the address is wrong.
        if self.directory.domains.get(recipient.domain) is None:
            return f"550 5.1.2 Domain not served here: {recipient.domain}"
        return f"550 5.1.1 No such list: {recipient.address}"

    async def _lookup(self, function: Callable[[Recipient], T], recipient: Recipient) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._lookups, function, recipient)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        targets = self._targets.pop(envelope, [])
        self.busy += 1
        self.idle.clear()
        try:
            replies = await self._deliver(envelope, targets)
        except Exception:
            # Left to aiosmtpd, a fault of ours would be one "500 Error" line: a
            # permanent failure that makes the MTA bounce the message, and one reply
            # where LMTP owes one per recipient.
            self.log.exception("cannot deliver a message from %s", envelope.mail_from)
            replies = [PROCESSING_ERROR] * len(targets)
        finally:
            self.busy -= 1
            if not self.busy:
                self.idle.set()
        # aiosmtpd sends the returned text as is: one reply line per recipient.
        return "\r\n".join(replies)

    async def _deliver(self, envelope: Envelope, targets: list[Target]) -> list[str]:
        raw = envelope.original_content or b""
        # Taken first: prepare may add a Message-ID to the buffer in place.
        size = len(raw)
        try:
            if size <= INLINE_PREPARE:
                data = self.prepare(raw)
            else:
                data = await asyncio.to_thread(self.prepare, raw)
        except StructureError as refused:
            self.log.info("refused a message from %s: %s", envelope.mail_from, refused.reply)
            return [refused.reply] * len(targets)
        except Exception:
            self.log.exception("cannot prepare a message from %s", envelope.mail_from)
            return [PROCESSING_ERROR] * len(targets)
        common = {
            "envelope_sender": "" if envelope.mail_from == NULL_SENDER else envelope.mail_from,
            "original_size": size,
            "received_time": time.time(),
        }
        entries = [(t.recipient.queue, self.metadata(t, common)) for t in targets]
        results = await self._persist(data, entries)
        return [self._reply(t, result) for t, result in zip(targets, results, strict=True)]

    async def _persist(self, data: bytes | bytearray, entries: Entries) -> list[str | Exception]:
        job = _Job(asyncio.get_running_loop(), entries, self.writing)
        self._writers.submit(self._write, data, job)
        # A client hanging up cancels only this wait: the writer finishes the entries
        # and their group commit on its own, so none is left written but not synced.
        # (No shield, which would cost a task and two turns of the loop per message.)
        results = await job.answered
        self.stored += sum(1 for result in results if isinstance(result, str))
        return results

    def _write(self, data: bytes | bytearray, job: _Job) -> None:
        """``store``, then each written queue's group commit (runs in a writer thread).

        Returns once the entries are written; the group commits answer the job later,
        from whichever thread runs the directory fsync that covers them.
        """
        try:
            job.results = self.store(data, job.entries)
        except Exception as error:
            job.results = [error] * len(job.entries)
        written = {name for (name, _), result in zip(job.entries, job.results, strict=True)
                   if isinstance(result, str)}  # fmt: skip
        # Complete before the first commit: from then on only the event loop reads it.
        job.pending = written
        if not written:
            job.loop.call_soon_threadsafe(job.settle, None, None)
        for name in sorted(written):
            self.commits(name).commit((job, name))

    def prepare(self, raw: bytes | bytearray) -> bytes | bytearray:
        """The bytes to queue, or StructureError (runs in a worker thread).

        A bytearray (what the session reads DATA into) is changed in place, so a large
        message is not copied.
        """
        data = normalize_line_endings(raw)
        if b"message-id" not in check_structure(data, self.limits):
            # make_msgid is given the domain: without one it asks the resolver.
            field = b"Message-ID: %s\r\n" % make_msgid(domain=self.hostname).encode("ascii")
            if isinstance(data, bytearray):
                data[:0] = field
            else:
                data = field + data
        return data

    @staticmethod
    def metadata(target: Target, common: dict[str, Any]) -> dict[str, Any]:
        msgdata = dict(common)
        msgdata["list_id"] = target.list_id
        msgdata.update(target.recipient.msgdata())
        return msgdata

    def store(self, data: bytes | bytearray, entries: Entries) -> list[str | Exception]:
        """Write one entry per recipient, each fsynced but its directory not yet."""
        results: list[str | Exception] = []
        for name, msgdata in entries:
            try:
                results.append(self.queue(name).enqueue(data, msgdata, durable=False))
            except Exception as error:
                results.append(error)
        return results

    def _reply(self, target: Target, result: str | Exception) -> str:
        if isinstance(result, str):
            return f"250 2.0.0 Queued as {result}"
        self.log.error("cannot queue the message for %s: %s", target.recipient.address, result)
        if isinstance(result, OSError) and result.errno == errno.EFBIG:  # queues.EntryTooBig
            return f"552 5.3.4 Message too big to queue: {result}"
        if isinstance(result, OSError) and result.errno in (errno.ENOSPC, errno.EDQUOT):
            return "452 4.3.1 Insufficient system storage, try again later"
        return "451 4.3.0 Cannot queue the message now, try again later"
