"""One Posthorn queue on RabbitMQ, with the Switchboard's promises (``ISwitchboard``).

An entry is one persistent message on the durable quorum queue ``PREFIX.NAME``; its
body is exactly the file the files backend writes (``entry``: a version line and two
pickles, loaded with the unpickler that imports nothing), its ``message_id`` the entry
id.  Its life:

- enqueue: published with publisher confirms; ``enqueue`` returns once the broker has
  confirmed, so a caller may report the message accepted.
- reading: a reader consumes with a prefetch limit, so slices of a runner become
  competing consumers, each holding at most ``prefetch`` entries unfinished.
  ``get_files`` lists the entries delivered to this reader; ``dequeue`` claims one.
- finish: the delivery is acknowledged, or with ``preserve`` the entry is first
  published, with its reason, to ``shunt`` and confirmed, then acknowledged.  A runner
  finishes an entry only after its outputs are confirmed and its database work
  committed, so a reader that dies before has its entries handed out again by the
  broker; nothing is lost, and an entry may be processed twice, as with files.
- attempts: the broker counts the deliveries that were not acknowledged
  (``x-delivery-count``); an entry delivered after ``max_attempts`` unfinished ones
  goes to ``shunt``.  A reader that stops cleanly publishes the entries it was handed
  but had not begun again, with the count they had, so a restart is no attempt.
- delays: an entry for a delayed queue (``retry``) whose metadata names a due time
  (``retry_after``) waits on the delay ladder (``delays``) and reaches the queue when
  due; no process polls for it.
- anything that cannot be loaded goes to ``bad`` with the reason in a header.
"""

from __future__ import annotations

import contextlib
import logging
import select
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email.message import Message
from email.policy import Policy, compat32
from types import TracebackType
from typing import Any, NoReturn, Self

from pika.adapters.blocking_connection import BlockingChannel
from pika.exceptions import AMQPError

from posthorn.queues.amqp_link import AmqpLink, BrokerUnavailable, browse
from posthorn.queues.delays import DUE_HEADER
from posthorn.queues.entry import (
    FORMAT_VERSION,
    FormatError,
    check_metadata,
    decode,
    encode,
    message_bytes,
)
from posthorn.queues.errors import BadEntry, EntryGone
from posthorn.queues.listing import QueueEntry
from posthorn.queues.naming import arrival_ns, is_queue_name, make_filebase
from posthorn.queues.parsing import message_parser
from posthorn.queues.switchboard import (
    ATTEMPTS_KEY,
    REASON_KEY,
    RECEIVED_KEY,
    VERSION_KEY,
    WHICHQ_KEY,
)

__all__ = ["ATTEMPTS_HEADER", "REASON_HEADER", "AmqpQueue"]

# Unfinished attempts counted before the entry was last published (see the docstring).
ATTEMPTS_HEADER = "x-posthorn-attempts"
# Why an entry was set aside in shunt or bad.
REASON_HEADER = "x-posthorn-reason"
# A wait is cut into slices this long to look at the stop descriptor in between.
STOP_CHECK = 0.25
# Queues no runner reads, where entries wait for a person: the only ones looked into.
BROWSABLE = frozenset({"bad", "dead", "hold", "shunt"})

MessageInput = bytes | bytearray | Message


@dataclass
class _Delivery:
    channel: BlockingChannel
    tag: int
    filebase: str  # the id this reader lists it under
    message_id: str  # the entry's own id, kept when it is published again
    body: bytes
    attempts: int
    due: float | None


class AmqpQueue:
    """Queue ``name`` on the broker of ``link``; a reader when ``get_files`` is called."""

    def __init__(
        self,
        link: AmqpLink,
        name: str,
        *,
        slice: int = 0,
        count: int = 1,
        max_attempts: int = 3,
        prefetch: int = 1,
        delayed: bool = False,
        due_key: str = "retry_after",
        logger: logging.Logger | None = None,
        policy: Policy[Any] = compat32,
    ) -> None:
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, not {max_attempts}")
        self.link = link
        self.name = name
        self.slice = slice
        self.slice_count = count
        self.max_attempts = max_attempts
        self.prefetch = max(prefetch, 1)
        self.delayed = delayed
        self.due_key = due_key
        self.policy = policy
        self._log = logger or logging.getLogger("posthorn.queues")
        self._ready: dict[str, _Delivery] = {}
        self._claimed: dict[str, _Delivery] = {}
        self._consumer: tuple[BlockingChannel, str] | None = None

    def __repr__(self) -> str:
        return f"<AmqpQueue {self.name} {self.slice}/{self.slice_count} on {self.link!r}>"

    # -- writing ----------------------------------------------------------------------

    def enqueue(
        self,
        msg: MessageInput,
        msgdata: Mapping[str, Any] | None = None,
        *,
        durable: bool = True,
        **extra: Any,
    ) -> str:
        # Every publish waits for its confirm, so each entry is durable at once.
        del durable
        filebase, body, metadata = self._prepare(msg, msgdata, extra)
        self._publish(filebase, body, metadata)
        return filebase

    def enqueue_many(
        self, items: Iterable[tuple[MessageInput, Mapping[str, Any] | None]]
    ) -> list[str]:
        prepared = [self._prepare(msg, msgdata, {}) for msg, msgdata in items]
        for filebase, body, metadata in prepared:
            self._publish(filebase, body, metadata)
        return [filebase for filebase, _, _ in prepared]

    def sync(self) -> None:
        """Nothing to do: each publish was confirmed before ``enqueue`` returned."""

    def _prepare(
        self, msg: MessageInput, msgdata: Mapping[str, Any] | None, extra: Mapping[str, Any]
    ) -> tuple[str, bytes, dict[str, Any]]:
        data = message_bytes(msg)
        metadata = dict(msgdata or {})
        metadata.update(extra)
        metadata.pop(ATTEMPTS_KEY, None)
        metadata.pop(REASON_KEY, None)
        metadata[VERSION_KEY] = FORMAT_VERSION
        metadata[WHICHQ_KEY] = extra.get(WHICHQ_KEY, self.name)
        metadata.setdefault(RECEIVED_KEY, time.time())
        check_metadata(metadata)
        body = self.link.sized(encode(data, metadata), self.name)
        return make_filebase(data, time.time_ns()), body, metadata

    def _publish(self, filebase: str, body: bytes, metadata: Mapping[str, Any]) -> None:
        due = metadata.get(self.due_key) if self.delayed else None
        if isinstance(due, int | float) and due - time.time() >= 1:
            headers = {DUE_HEADER: round(due * 1000)}
            self.link.publish(self.name, body, message_id=filebase, headers=headers,
                              delay=due - time.time())  # fmt: skip
        else:
            self.link.publish(self.name, body, message_id=filebase)

    # -- reading ----------------------------------------------------------------------

    @property
    def files(self) -> list[str]:
        return self.get_files()

    def get_files(self) -> list[str]:
        self._consume()
        self.link.process_events(0)
        return list(self._ready)

    def dequeue(self, filebase: str) -> tuple[Message, dict[str, Any]]:
        data, msgdata = self.dequeue_raw(filebase)
        try:
            parser = message_parser(self.policy)
            parser.feed(data)
            msg = parser.close()
        except Exception as error:
            self._reject(self._claimed.pop(filebase), f"unparsable message: {error}")
        return msg, msgdata

    def dequeue_raw(self, filebase: str) -> tuple[bytes, dict[str, Any]]:
        delivery = self._ready.pop(filebase, None)
        if delivery is None:
            raise EntryGone(filebase)
        try:
            data, msgdata = decode(delivery.body)
        except FormatError as error:
            self._reject(delivery, str(error))
        if delivery.attempts:
            msgdata[ATTEMPTS_KEY] = delivery.attempts
        self._claimed[filebase] = delivery
        return data, msgdata

    def finish(self, filebase: str, *, preserve: bool = False, reason: str | None = None) -> None:
        delivery = self._claimed.pop(filebase, None)
        if delivery is None:
            raise EntryGone(filebase)
        if preserve:
            data, msgdata = decode(delivery.body)
            self._shunt(delivery, data, msgdata, reason or "preserved by its reader")
            return
        self._ack(delivery)

    def _ack(self, delivery: _Delivery) -> None:
        if not delivery.channel.is_open:
            # The broker has put it back already, for another reader: done twice at worst.
            raise EntryGone(delivery.filebase)
        try:
            delivery.channel.basic_ack(delivery.tag)
        except AMQPError:
            raise EntryGone(delivery.filebase) from None

    def _shunt(
        self, delivery: _Delivery, data: bytes, msgdata: dict[str, Any], reason: str
    ) -> None:
        msgdata.setdefault(WHICHQ_KEY, self.name)
        msgdata[REASON_KEY] = reason
        body = self.link.fitting(encode(data, msgdata), delivery.body)
        self.link.publish("shunt", body, message_id=delivery.message_id,
                          headers={REASON_HEADER: reason})  # fmt: skip
        self._ack(delivery)
        self._log.error("%s: shunted %s: %s", self.name, delivery.filebase, reason)

    def _reject(self, delivery: _Delivery, reason: str) -> NoReturn:
        self.link.publish("bad", delivery.body, message_id=delivery.message_id,
                          headers={REASON_HEADER: reason})  # fmt: skip
        self._ack(delivery)
        self._log.error("%s: bad entry %s: %s; moved to bad", self.name, delivery.filebase, reason)
        raise BadEntry(delivery.filebase, reason)

    # -- deliveries ----------------------------------------------------------------------

    def _consume(self) -> None:
        channel = self.link.channel()
        if self._consumer is not None and self._consumer[0] is channel:
            return
        # A new channel: what the old one had delivered is back on the queue already.
        self._ready.clear()
        try:
            channel.basic_qos(prefetch_count=self.prefetch)
            tag = channel.basic_consume(self.link.declare(self.name), self._arrived)
        except AMQPError as error:
            raise BrokerUnavailable(f"cannot read {self.name}: {error!r}") from None
        self._consumer = (channel, tag)

    def _arrived(self, channel: BlockingChannel, method: Any, properties: Any, body: bytes) -> None:
        headers = properties.headers or {}
        message_id = filebase = str(properties.message_id or f"tag-{method.delivery_tag}")
        if filebase in self._ready or filebase in self._claimed:
            filebase = f"{filebase}.{method.delivery_tag}"
        attempts = int(headers.get("x-delivery-count", 0)) + int(headers.get(ATTEMPTS_HEADER, 0))
        due = headers.get(DUE_HEADER)
        delivery = _Delivery(channel, method.delivery_tag, filebase, message_id, body, attempts,
                             due / 1000 if isinstance(due, int) else None)  # fmt: skip
        if delivery.due is not None and delivery.due - time.time() >= 1:
            # Arrived from a shorter rung of the delay ladder: wait out the rest.
            self._republish(delivery)
            return
        if attempts >= self.max_attempts:
            try:
                data, msgdata = decode(body)
            except FormatError as error:
                with contextlib.suppress(BadEntry):
                    self._reject(delivery, str(error))
                return
            msgdata[ATTEMPTS_KEY] = attempts
            self._shunt(delivery, data, msgdata, f"gave up after {attempts} unfinished attempts")
            return
        self._ready[filebase] = delivery

    def _republish(self, delivery: _Delivery) -> None:
        """Publish the entry afresh, keeping its count and due time, then drop the old."""
        headers: dict[str, Any] = {ATTEMPTS_HEADER: delivery.attempts}
        delay = 0.0
        if delivery.due is not None:
            headers[DUE_HEADER] = round(delivery.due * 1000)
            delay = delivery.due - time.time()
        self.link.publish(self.name, delivery.body, message_id=delivery.message_id,
                          headers=headers, delay=delay)  # fmt: skip
        self._ack(delivery)

    def recover_backup_files(self) -> int:
        """Nothing to recover: the broker hands out a dead reader's entries again itself."""
        return 0

    def unshunt(self) -> list[tuple[str, str]]:
        moved: list[tuple[str, str]] = []
        with browse(self.link, self.name) as messages:
            for message in messages:
                try:
                    data, msgdata = decode(message.body)
                except FormatError as error:
                    self._log.error("%s: cannot unshunt %s: %s", self.name, message.message_id,
                                    error)  # fmt: skip
                    continue
                whichq = msgdata.get(WHICHQ_KEY)
                if not is_queue_name(whichq):
                    self._log.error("%s: cannot unshunt %s: bad queue %r", self.name,
                                    message.message_id, whichq)  # fmt: skip
                    continue
                if whichq == self.name:
                    self._log.error("%s: cannot unshunt %s into itself", self.name,
                                    message.message_id)  # fmt: skip
                    continue
                msgdata.pop(ATTEMPTS_KEY, None)
                msgdata.pop(REASON_KEY, None)
                self.link.publish(whichq, encode(data, msgdata), message_id=message.message_id)
                message.take()
                moved.append((message.message_id, whichq))
                self._log.warning("%s: unshunted %s to %s", self.name, message.message_id, whichq)
        return moved

    # -- what a listing can tell ------------------------------------------------------------

    def count(self) -> int:
        """Entries ready in the whole queue (those a reader holds are not counted)."""
        return self.link.size(self.name) or 0

    def oldest_age(self) -> float | None:
        """Only a queue no runner reads is looked into (see ``amqp_link.browse``)."""
        entries = self.entries()
        if not entries:
            return None
        return max(time.time() - min(entry.mtime for entry in entries), 0.0)

    def entries(self) -> list[QueueEntry]:
        if self.name not in BROWSABLE:
            return []
        found = []
        with browse(self.link, self.name) as messages:
            for message in messages:
                arrived = arrival_ns(message.message_id)
                stamp = arrived / 1e9 if arrived is not None else time.time()
                found.append(QueueEntry(message.message_id, "queued", len(message.body), stamp))
        return found

    def claimed_since(self) -> float | None:
        """Claims are known to the reader that holds them only: the watchdog cannot tell."""
        return None

    # -- waiting ----------------------------------------------------------------------

    def wait(self, timeout: float, stop_fd: int | None = None) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            if self.get_files():
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if stop_fd is not None and select.select([stop_fd], [], [], 0)[0]:
                return False
            # The broker pushes deliveries: this blocks on the socket, it does not poll.
            self.link.process_events(min(remaining, STOP_CHECK))

    def close(self) -> None:
        """Stop reading: entries handed to this reader but not begun go back, uncounted."""
        if self._consumer is None:
            return
        channel, tag = self._consumer
        self._consumer = None
        if not channel.is_open:
            self._ready.clear()
            return
        try:
            channel.basic_cancel(tag)
            for delivery in list(self._ready.values()):
                self._republish(delivery)
        except (AMQPError, EntryGone) as error:
            self._log.warning("%s: could not put back the entries not begun: %s", self.name, error)
        self._ready.clear()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
