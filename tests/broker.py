"""The RabbitMQ broker the amqp queue tests use: 127.0.0.1:5672, guest/guest.

Each test gets a prefix of its own (``posthorn-test-<hex>``), so its queues are apart
from every other test's and from a site's, and they are deleted when it ends.  Tests are
skipped, saying why, where no broker answers.
"""

from __future__ import annotations

import contextlib
import socket
import uuid
from collections.abc import Iterator

import pika
import pytest
from pika.exceptions import AMQPError

from posthorn.queues.amqp_link import AmqpLink
from posthorn.queues.delays import LADDER

URL = "amqp://guest:guest@127.0.0.1:5672/"
# Every Posthorn queue a test may make (the runners', the parked ones, the tests' own).
QUEUE_NAMES = (
    "alpha", "archive", "bad", "bounce", "command", "dead", "digest", "hold", "in", "incoming",
    "nntp", "outgoing", "pipeline", "recorder", "retry", "shunt", "task", "virgin",
)  # fmt: skip


def broker_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5672), timeout=1):
            return True
    except OSError:
        return False


def delete_prefix(prefix: str) -> None:
    """Delete the queues and the delay exchange of ``prefix`` (those that exist)."""
    connection = pika.BlockingConnection(pika.URLParameters(URL))
    try:
        channel = connection.channel()
        names = [f"{prefix}.{name}" for name in QUEUE_NAMES]
        names += [f"{prefix}.delay.{seconds}s" for seconds in LADDER]
        for name in names:
            channel.queue_delete(name)
        channel.exchange_delete(f"{prefix}.delay")
    finally:
        with contextlib.suppress(AMQPError):
            connection.close()


@contextlib.contextmanager
def broker_prefix() -> Iterator[str]:
    """A fresh queue prefix on the test broker, cleaned away afterwards (or a skip)."""
    if not broker_reachable():
        pytest.skip("no RabbitMQ broker at 127.0.0.1:5672 (start it: rabbitmq-server -detached)")
    prefix = f"posthorn-test-{uuid.uuid4().hex[:12]}"
    try:
        yield prefix
    finally:
        delete_prefix(prefix)


def consumers(prefix: str, name: str) -> int:
    """Readers now consuming Posthorn queue ``name`` under ``prefix`` (0 if none or no queue)."""
    connection = pika.BlockingConnection(pika.URLParameters(URL))
    try:
        ok = connection.channel().queue_declare(f"{prefix}.{name}", passive=True)
        return int(ok.method.consumer_count)
    except AMQPError:
        return 0
    finally:
        with contextlib.suppress(AMQPError):
            connection.close()


def size(prefix: str, name: str) -> int:
    """Messages ready in Posthorn queue ``name`` under ``prefix`` (0 if it does not exist)."""
    link = AmqpLink(URL, prefix)  # a connection of its own, whatever the test holds
    try:
        return link.size(name) or 0
    finally:
        link.close()
