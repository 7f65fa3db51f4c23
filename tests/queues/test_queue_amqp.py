"""The amqp backend against a real RabbitMQ: the files backend's promises, kept.

Every test uses a queue prefix of its own on the broker at 127.0.0.1:5672 and deletes
its queues afterwards (``tests/broker.py``); without a broker they are skipped.
"""

from __future__ import annotations

import os
import pickle
import time
from collections.abc import Iterator

import pika
import pytest

from posthorn.queues import BadEntry, EntryGone
from posthorn.queues.amqp import REASON_HEADER, AmqpQueue
from posthorn.queues.amqp_link import AmqpLink, browse
from posthorn.queues.amqp_store import AmqpStore
from posthorn.queues.entry import HEADER, decode
from tests.broker import URL, broker_prefix
from tests.waiting import wait_for

MESSAGE = b"From: a@example.org\nSubject: hello\nMessage-ID: <m1@example.org>\n\nbody\n"


@pytest.fixture
def store() -> Iterator[AmqpStore]:
    with broker_prefix() as prefix:
        store = AmqpStore(URL, prefix=prefix, known=["incoming"])
        try:
            yield store
        finally:
            store.close()


def take(store: AmqpStore, name: str, timeout: float = 5.0) -> str:
    """The first entry id a reader of ``name`` is handed (the reader stays open)."""
    reader = store.open(name)
    assert reader.wait(timeout), f"nothing arrived in {name} within {timeout}s"
    return reader.get_files()[0]


def test_an_entry_round_trips_in_the_files_backends_format(store: AmqpStore) -> None:
    writer = store.open("incoming")
    filebase = writer.enqueue(MESSAGE, {"list_id": "dev.example.org", "to_list": True})
    assert store.exists("incoming") and store.depth("incoming") == 1
    assert store.names() == ["incoming"]
    with browse(store.link, "incoming") as messages:
        (message,) = messages
        assert message.message_id == filebase
        assert message.body.startswith(HEADER)
        assert decode(message.body)[0] == MESSAGE
    reader = store.open("incoming")
    assert reader.wait(5)
    assert reader.get_files() == [filebase]
    msg, msgdata = reader.dequeue(filebase)
    assert msg["subject"] == "hello"
    assert msgdata["list_id"] == "dev.example.org"
    assert msgdata["whichq"] == "incoming" and msgdata["version"] == 1
    assert reader.get_files() == []
    reader.finish(filebase)
    with pytest.raises(EntryGone):
        reader.finish(filebase)
    reader.close()
    assert store.depth("incoming") == 0


def test_metadata_of_other_types_is_refused_before_anything_is_sent(store: AmqpStore) -> None:
    with pytest.raises(TypeError):
        store.open("incoming").enqueue(MESSAGE, {"when": object()})
    assert not store.exists("incoming")


def test_an_entry_that_would_run_code_goes_to_bad_with_its_reason(store: AmqpStore) -> None:
    # A pickle whose loading would call os.system: the loader imports nothing.
    evil = HEADER + pickle.dumps(_Evil(), protocol=5) + pickle.dumps(b"x", protocol=5)
    store.link.publish("incoming", evil, message_id="evil")
    reader = store.open("incoming")
    assert reader.wait(5)
    with pytest.raises(BadEntry, match="refusing global"):
        reader.dequeue("evil")
    reader.close()
    assert not os.path.exists(_Evil.MARK)
    with browse(store.link, "bad") as messages:
        (message,) = messages
        assert message.body == evil
        assert "refusing global" in message.headers[REASON_HEADER]
    assert store.depth("incoming") == 0


class _Evil:
    MARK = "/tmp/posthorn-amqp-test-evil-ran"

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch {self.MARK}",))


def test_shunt_keeps_the_reason_and_unshunt_sends_it_back(store: AmqpStore) -> None:
    filebase = store.open("incoming").enqueue(MESSAGE, {"list_id": "dev.example.org"})
    reader = store.open("incoming")
    assert reader.wait(5)
    reader.dequeue(filebase)
    reader.finish(filebase, preserve=True, reason="incoming: ValueError: broken")
    assert store.depth("incoming") == 0
    assert [e.id for e in store.list_entries(["shunt"])] == [filebase]
    data, msgdata = store.peek(filebase)
    assert data == MESSAGE
    assert msgdata["shunt_reason"] == "incoming: ValueError: broken"
    assert msgdata["whichq"] == "incoming"
    with store.open("shunt") as shunt:
        assert shunt.count() == 1
        assert shunt.unshunt() == [(filebase, "incoming")]
        assert shunt.count() == 0
    assert reader.wait(5)
    assert reader.get_files() == [filebase]
    _, msgdata = reader.dequeue(filebase)
    assert "shunt_reason" not in msgdata and "queue_attempts" not in msgdata
    reader.finish(filebase)
    reader.close()


def test_unfinished_deliveries_count_as_attempts_until_shunted(store: AmqpStore) -> None:
    filebase = store.open("incoming").enqueue(MESSAGE, {})
    for attempt in range(2):
        reader = store.open("incoming", max_attempts=2)
        assert reader.wait(5)
        _, msgdata = reader.dequeue(filebase)
        assert msgdata.get("queue_attempts", 0) == attempt
        # A reader that dies: its connection goes, its entry in hand returns.
        store.link.close()
    reader = store.open("incoming", max_attempts=2)
    assert not reader.wait(1)
    assert store.depth("incoming") == 0
    _, msgdata = store.peek(filebase)
    assert msgdata["shunt_reason"] == "gave up after 2 unfinished attempts"


def test_entries_handed_out_but_not_begun_go_back_uncounted_on_close(store: AmqpStore) -> None:
    writer = store.open("incoming")
    ids = [writer.enqueue(MESSAGE, {"n": n}) for n in range(3)]
    reader = store.open("incoming", prefetch=3)
    wait_for(lambda: len(reader.get_files()) == 3, "three entries handed out", 5)
    reader.dequeue(ids[0])
    reader.finish(ids[0])
    reader.close()
    assert store.depth("incoming") == 2
    again = store.open("incoming", max_attempts=1, prefetch=2)
    wait_for(lambda: len(again.get_files()) == 2, "the two entries again", 5)
    for filebase in again.get_files():
        _, msgdata = again.dequeue(filebase)
        assert "queue_attempts" not in msgdata
        again.finish(filebase)
    again.close()


def test_a_reader_holds_no_more_than_its_prefetch(store: AmqpStore) -> None:
    writer = store.open("incoming")
    for n in range(5):
        writer.enqueue(MESSAGE, {"n": n})
    first = store.open("incoming", prefetch=2)
    # A second connection, as another process or host would have.
    second = AmqpLink(URL, store.link.prefix)
    other = AmqpQueue(second, "incoming", prefetch=2)
    try:
        wait_for(lambda: len(first.get_files()) == 2, "two entries for the first reader", 5)
        wait_for(lambda: len(other.get_files()) == 2, "two for the second", 5)
        time.sleep(0.2)
        assert len(first.get_files()) == 2 and len(other.get_files()) == 2
        assert set(first.get_files()).isdisjoint(other.get_files())
    finally:
        first.close()
        other.close()
        second.close()


@pytest.mark.parametrize("delay", [3.0, 5.5])
def test_a_delayed_entry_arrives_when_due_and_not_before(store: AmqpStore, delay: float) -> None:
    # 5.5 s: the 4 s rung, then what is left on the 1 s rung.
    retry = store.open("retry")
    due = time.time() + delay
    filebase = retry.enqueue(MESSAGE, {"retry_after": due, "retry_queue": "outgoing"})
    # It waits on the delay ladder, not in the queue a reader takes from.
    assert store.depth("retry") == 0
    reader = store.open("retry")
    assert not reader.wait(delay - 1.5)
    assert reader.wait(5)
    assert due - 1 <= time.time() <= due + 1
    assert reader.get_files() == [filebase]
    _, msgdata = reader.dequeue_raw(filebase)
    assert msgdata["retry_queue"] == "outgoing" and msgdata["whichq"] == "retry"
    reader.finish(filebase)
    reader.close()


def test_an_entry_past_due_or_on_an_undelayed_queue_is_not_held(store: AmqpStore) -> None:
    store.open("retry").enqueue(MESSAGE, {"retry_after": time.time() - 5})
    store.open("incoming").enqueue(MESSAGE, {"retry_after": time.time() + 60})
    assert store.depth("retry") == 1
    assert store.depth("incoming") == 1


def test_an_unreachable_broker_is_an_error_before_anything_is_reported() -> None:
    store = AmqpStore("amqp://guest:guest@127.0.0.1:1/", prefix="nowhere")
    with pytest.raises(ConnectionError):
        store.open("incoming").enqueue(MESSAGE, {})


def test_a_broker_name_per_queue_under_the_prefix(store: AmqpStore) -> None:
    store.open("incoming").enqueue(MESSAGE, {})
    connection = pika.BlockingConnection(pika.URLParameters(URL))
    try:
        ok = connection.channel().queue_declare(f"{store.link.prefix}.incoming", passive=True)
        assert ok.method.message_count == 1
    finally:
        connection.close()
    assert store.location("incoming").endswith(f"queue {store.link.prefix}.incoming")
