"""The RabbitMQ side of the amqp backend: connections, queue declarations, confirmed publishes.

One connection per process and thread: a pika ``BlockingConnection`` must not be
shared between threads (the LMTP server writes from a pool of them) nor across a fork
(the master forks its runners).  On it, one channel for reading (``channel``) and one
for publishing (``publisher``), both in confirm mode, so ``publish`` returns only once
the broker has taken responsibility for the message: for a durable quorum queue, once
a majority of its replicas has written it.  Apart, so that a publish the broker
refuses, which closes its channel, does not hand back the entries a reader holds.

Names on the broker: queue ``NAME`` of Posthorn is the quorum queue ``PREFIX.NAME``.
Delayed entries (see ``delays``) pass through the headers exchange ``PREFIX.delay`` and
the quorum queues ``PREFIX.delay.Ns``, whose per-queue time to live dead-letters each
message, at least once, back to the queue named by its routing key.

The broker refuses a message over its ``max_message_size`` by closing the channel (and
with it the deliveries a reader holds on it), and AMQP does not tell a client that
limit.  Given it, a link refuses a bigger new entry itself, before anything is sent
(``sized``: ``EntryTooBig``, as for the broker's refusal): an LMTP client is told 552,
a runner shunts the entry whose output would be too big.  An entry shunted with its
reason added, if that made it too big, goes as it was stored (``fitting``), the reason
in a header only.

Heartbeats are off unless the URL asks for them: a blocking connection answers them only
while the process talks to the broker, and a runner delivering one large post for
minutes would otherwise lose its connection, and with it the entries in hand.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pika
from pika.adapters.blocking_connection import BlockingChannel
from pika.exceptions import AMQPError, ChannelClosedByBroker, NackError

from posthorn.queues.delays import DELAY_HEADER, delay_queue_seconds
from posthorn.queues.errors import EntryTooBig, QueueUnavailable

__all__ = ["AmqpLink", "BrokerUnavailable", "Browsed", "browse", "shared_link"]

PERSISTENT = pika.DeliveryMode.Persistent
# pika tells of every connection (INFO) and every missing queue looked for (WARNING);
# our own lines say what matters.
logging.getLogger("pika").setLevel(logging.ERROR)
NOT_FOUND = 404
# The broker closes the channel of a publish over its max_message_size with this code
# and a text naming the limit; the entry was not stored, and never will be.
PRECONDITION_FAILED = 406
_MAX_SIZE = re.compile(r"larger than configured max size (\d+)")
# Durable quorum queues.  Posthorn counts attempts itself (``max_attempts``); the
# broker's own limit (20 by default from RabbitMQ 4.0) would drop messages, and every
# look into a parked queue counts as a delivery, so it is set out of reach.
QUORUM = {"x-queue-type": "quorum", "x-delivery-limit": 2**31 - 1}
# How long a look waits for the messages it returns to be counted again.
PUT_BACK_WAIT = 2.0
# A quorum queue may refuse (nack) a publish while it settles, e.g. just after it was
# declared on a busy broker: a refused message was not stored, so it is sent again
# after each of these pauses before the caller hears of it.
NACK_PAUSES = (0.05, 0.2, 0.5, 1.0)


class BrokerUnavailable(QueueUnavailable):
    """The broker cannot be reached or refused a message: nothing was stored."""


def _with_default_heartbeat(url: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.setdefault("heartbeat", "0")
    return urlunsplit(parts._replace(query=urlencode(query)))


_LINKS: dict[tuple[str, str, int], AmqpLink] = {}
_LINKS_LOCK = threading.Lock()


def shared_link(url: str, prefix: str, max_message_size: int = 0) -> AmqpLink:
    """The process's one link to ``url`` for ``prefix``: however many stores are made
    (one per REST request, say), each thread keeps one connection to the broker."""
    with _LINKS_LOCK:
        link = _LINKS.get((url, prefix, max_message_size))
        if link is None:
            link = AmqpLink(url, prefix, max_message_size)
            _LINKS[(url, prefix, max_message_size)] = link
        return link


class AmqpLink:
    """One broker, reached from any process or thread; the names of Posthorn's queues."""

    def __init__(self, url: str, prefix: str, max_message_size: int = 0) -> None:
        self.url = url
        self.prefix = prefix
        # The broker's max_message_size in bytes (0: not known, left to the broker).
        self.max_message_size = max_message_size
        self.parameters = pika.URLParameters(_with_default_heartbeat(url))
        self._local = threading.local()

    def __repr__(self) -> str:
        return f"<AmqpLink {self.parameters.host}:{self.parameters.port} {self.prefix}>"

    # -- names -----------------------------------------------------------------------

    def queue_name(self, name: str) -> str:
        return f"{self.prefix}.{name}"

    @property
    def delay_exchange(self) -> str:
        return f"{self.prefix}.delay"

    def delay_queue(self, seconds: int) -> str:
        return f"{self.prefix}.delay.{seconds}s"

    # -- the connection of this process and thread --------------------------------------

    def channel(self) -> BlockingChannel:
        """This thread's open channel (in confirm mode), connecting if need be."""
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            # Inherited through a fork: the parent's socket is not ours to use or close.
            local.pid, local.connection, local.channel = os.getpid(), None, None
            local.declared, local.publisher = set(), None
        if local.channel is not None and local.channel.is_open:
            return local.channel
        try:
            if local.connection is None or not local.connection.is_open:
                local.connection = pika.BlockingConnection(self.parameters)
                local.declared = set()
            local.channel = local.connection.channel()
            local.channel.confirm_delivery()
        except AMQPError as error:
            raise BrokerUnavailable(f"cannot reach the broker at {self.url}: {error!r}") from None
        return local.channel

    def publisher(self) -> BlockingChannel:
        """This thread's channel for publishing (in confirm mode), on its connection."""
        connection = self.channel().connection
        local = self._local
        channel = local.publisher
        if channel is not None and channel.is_open and channel.connection is connection:
            return channel
        try:
            local.publisher = connection.channel()
            local.publisher.confirm_delivery()
        except AMQPError as error:
            raise BrokerUnavailable(f"cannot reach the broker at {self.url}: {error!r}") from None
        return local.publisher

    def process_events(self, seconds: float) -> None:
        """Let this thread's connection deliver what has arrived, waiting up to ``seconds``."""
        try:
            self.channel().connection.process_data_events(time_limit=max(seconds, 0.0))
        except AMQPError as error:
            raise BrokerUnavailable(f"lost the broker at {self.url}: {error!r}") from None

    def close(self) -> None:
        """Close this thread's connection; unfinished deliveries return to their queues."""
        local = self._local
        connection = getattr(local, "connection", None)
        if getattr(local, "pid", None) == os.getpid() and connection is not None:
            if connection.is_open:
                with contextlib.suppress(AMQPError):
                    connection.close()
            local.connection, local.channel, local.publisher = None, None, None

    # -- declarations ----------------------------------------------------------------------

    def declare(self, name: str) -> str:
        """Declare Posthorn queue ``name`` (durable, quorum); return its broker name."""
        full = self.queue_name(name)
        channel = self.channel()
        if full not in self._local.declared:
            channel.queue_declare(full, durable=True, arguments=QUORUM)
            self._local.declared.add(full)
        return full

    def declare_delay(self, seconds: int) -> None:
        """The delay queue of ``seconds`` and its binding to the delay exchange."""
        queue = self.delay_queue(seconds)
        channel = self.channel()
        if queue in self._local.declared:
            return
        channel.exchange_declare(self.delay_exchange, "headers", durable=True)
        arguments = {
            **QUORUM,
            "x-message-ttl": seconds * 1000,
            "x-dead-letter-exchange": "",
            # Dead-lettered only once the target queue has confirmed it.
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
        }
        channel.queue_declare(queue, durable=True, arguments=arguments)
        channel.queue_bind(
            queue,
            self.delay_exchange,
            arguments={"x-match": "all", DELAY_HEADER: seconds},
        )
        self._local.declared.add(queue)

    def size(self, name: str) -> int | None:
        """Messages ready in Posthorn queue ``name``; None if it does not exist."""
        channel = self.channel()
        try:
            ok = channel.queue_declare(self.queue_name(name), passive=True)
        except ChannelClosedByBroker as error:
            if error.reply_code == NOT_FOUND:
                return None
            raise BrokerUnavailable(f"cannot count {name}: {error!r}") from None
        except AMQPError as error:
            raise BrokerUnavailable(f"cannot count {name}: {error!r}") from None
        return int(ok.method.message_count)

    # -- publishing --------------------------------------------------------------------

    def sized(self, body: bytes, queue: str) -> bytes:
        """``body``, if the broker takes a message that big; else EntryTooBig."""
        if self.max_message_size and len(body) > self.max_message_size:
            raise EntryTooBig(len(body), self.max_message_size, f" (queue {queue})")
        return body

    def fitting(self, body: bytes, stored: bytes) -> bytes:
        """``body``, unless it is too big and ``stored`` (what it grew from) is not."""
        limit = self.max_message_size
        return stored if limit and len(body) > limit >= len(stored) else body

    def publish(
        self,
        name: str,
        body: bytes,
        *,
        message_id: str,
        headers: Mapping[str, Any] | None = None,
        delay: float = 0.0,
    ) -> None:
        """Send ``body`` to queue ``name`` (after ``delay`` seconds); return once confirmed."""
        try:
            target = self.declare(name)
            exchange, routing = "", target
            headers = dict(headers or {})
            seconds = delay_queue_seconds(delay)
            if seconds:
                self.declare_delay(seconds)
                exchange = self.delay_exchange
                headers[DELAY_HEADER] = seconds
            properties = pika.BasicProperties(
                delivery_mode=PERSISTENT, message_id=message_id, headers=headers or None
            )
            # mandatory: a message no queue takes is refused, never silently dropped.
            for pause in (*NACK_PAUSES, None):
                try:
                    self.publisher().basic_publish(
                        exchange, routing, body, properties, mandatory=True
                    )
                    break
                except NackError:
                    if pause is None:
                        raise
                    time.sleep(pause)
        except ChannelClosedByBroker as error:
            limit = _MAX_SIZE.search(str(error.reply_text))
            if error.reply_code != PRECONDITION_FAILED or limit is None:
                raise BrokerUnavailable(f"the broker did not take the entry: {error!r}") from None
            # Not "unavailable": the same entry would be refused again and again.
            raise EntryTooBig(len(body), int(limit.group(1)),
                              " (the broker's max_message_size)") from None  # fmt: skip
        except AMQPError as error:
            raise BrokerUnavailable(f"the broker did not take the entry: {error!r}") from None


class Browsed:
    """One message taken from a queue for a look: acknowledged (``take``) or returned."""

    def __init__(self, channel: BlockingChannel, tag: int, message_id: str, body: bytes,
                 headers: Mapping[str, Any]) -> None:  # fmt: skip
        self._channel = channel
        self._tag = tag
        self.message_id = message_id
        self.body = body
        self.headers = headers
        self.taken = False

    def take(self) -> None:
        """Remove the message from its queue for good."""
        self._channel.basic_ack(self._tag)
        self.taken = True


@contextlib.contextmanager
def browse(link: AmqpLink, name: str, limit: int = 10_000) -> Iterator[list[Browsed]]:
    """The messages of queue ``name`` (at most ``limit``), oldest first, on a connection
    of their own: whatever is not taken returns to the queue when the block ends.

    Taking a message off a queue and returning it is the only look AMQP gives; a
    quorum queue counts each return as a delivery attempt, so only queues no runner
    reads (shunt, bad, hold, dead) are looked at this way.
    """
    try:
        connection = pika.BlockingConnection(link.parameters)
    except AMQPError as error:
        raise BrokerUnavailable(f"cannot reach the broker at {link.url}: {error!r}") from None
    try:
        channel = connection.channel()
        found: list[Browsed] = []
        try:
            channel.queue_declare(link.queue_name(name), passive=True)
        except ChannelClosedByBroker as error:
            if error.reply_code != NOT_FOUND:
                raise
            yield found
            return
        while len(found) < limit:
            method, properties, body = channel.basic_get(link.queue_name(name), auto_ack=False)
            if method is None:
                break
            message_id = str(properties.message_id or f"tag-{method.delivery_tag}")
            found.append(
                Browsed(channel, method.delivery_tag, message_id, body, properties.headers or {})
            )
        yield found
        _put_back(link, channel, name, found)
    finally:
        with contextlib.suppress(AMQPError):
            connection.close()


def _put_back(link: AmqpLink, channel: BlockingChannel, name: str, found: list[Browsed]) -> None:
    """Return what was not taken, and wait (a moment at most) until the queue counts it
    again, so that a count or a look right after this one sees the same queue."""
    kept = [message for message in found if not message.taken]
    if not kept:
        return
    for message in kept:
        channel.basic_nack(message._tag, requeue=True)
    deadline = time.monotonic() + PUT_BACK_WAIT
    while time.monotonic() < deadline:
        ok = channel.queue_declare(link.queue_name(name), passive=True)
        if ok.method.message_count >= len(kept):
            return
        time.sleep(0.01)
