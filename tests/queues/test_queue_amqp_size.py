"""Entries bigger than the broker takes, on the amqp backend against a real RabbitMQ.

RabbitMQ refuses a message over its ``max_message_size`` (128 MiB by default before
4.0, 16 MiB from 4.0) by closing the channel, and AMQP never tells a client the limit.
Whether the limit is given (``[queues] amqp_max_message_size``, checked before
anything is sent) or only the broker knows it, such an entry is ``EntryTooBig``: the
LMTP runner answers 552 instead of 451 (which the MTA would retry for days), and a
runner whose output is too big shunts its entry once, the entry neither lost nor
handed out again.  The broker's own refusal is shown with a message over 128 MiB, the
larger of its two defaults.
"""

from __future__ import annotations

import errno
import smtplib
from collections.abc import Iterator
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

from posthorn.config import load_config
from posthorn.interfaces.lists import IMailingList
from posthorn.queues import EntryTooBig
from posthorn.queues.amqp import REASON_HEADER
from posthorn.queues.amqp_link import browse
from posthorn.queues.amqp_store import AmqpStore
from posthorn.runners.base import Runner
from posthorn.site import Site
from tests.broker import URL, broker_prefix, size
from tests.processes import free_port
from tests.sites import prepared_site, running_master, write_site_config

MESSAGE = b"From: a@example.org\r\nSubject: hello\r\nMessage-ID: <m1@example.org>\r\n\r\nbody\r\n"
LIMIT = 4096
# Over both of RabbitMQ's defaults (128 MiB before 4.0, 16 MiB from 4.0).
OVER_THE_BROKER = 129 * 1024 * 1024
LIST = "dev@example.org"


@pytest.fixture
def prefix() -> Iterator[str]:
    with broker_prefix() as prefix:
        yield prefix


def post(body_size: int) -> bytes:
    return MESSAGE + b"x" * body_size


def test_an_entry_over_the_given_limit_is_refused_before_it_is_sent(prefix: str) -> None:
    store = AmqpStore(URL, prefix=prefix, max_message_size=LIMIT)
    try:
        queue = store.open("incoming")
        channel = store.link.publisher()
        with pytest.raises(EntryTooBig) as refused:
            queue.enqueue(post(LIMIT), {"list_id": "dev.example.org"})
        assert refused.value.errno == errno.EFBIG and refused.value.limit == LIMIT
        assert f"over the {LIMIT} bytes the queue takes (queue incoming)" in str(refused.value)
        assert store.link.publisher() is channel, "something reached the broker"
        queue.enqueue(post(100), {})
        assert size(prefix, "incoming") == 1
    finally:
        store.close()


def test_the_brokers_own_refusal_is_entry_too_big(prefix: str) -> None:
    store = AmqpStore(URL, prefix=prefix)
    try:
        queue = store.open("incoming")
        try:
            queue.enqueue(post(OVER_THE_BROKER), {})
        except EntryTooBig as refused:
            assert refused.limit < OVER_THE_BROKER
            assert "the broker's max_message_size" in str(refused)
        else:
            pytest.skip(f"this broker takes messages of {OVER_THE_BROKER} bytes")
        queue.enqueue(post(100), {})
        assert size(prefix, "incoming") == 1
    finally:
        store.close()


def test_a_shunted_entry_its_reason_made_too_big_goes_as_stored(prefix: str) -> None:
    store = AmqpStore(URL, prefix=prefix, max_message_size=LIMIT)
    try:
        filebase = store.open("incoming").enqueue(post(100), {"list_id": "dev.example.org"})
        reader = store.open("incoming")
        assert reader.wait(5)
        reader.dequeue(filebase)
        reason = "incoming: ValueError: " + "why " * LIMIT
        reader.finish(filebase, preserve=True, reason=reason)
        reader.close()
        with browse(store.link, "shunt") as messages:
            assert [m.headers[REASON_HEADER] for m in messages] == [reason]
        assert store.peek(filebase)[1]["whichq"] == "incoming"
        with store.open("shunt") as shunt:
            assert shunt.unshunt() == [(filebase, "incoming")]
    finally:
        store.close()


class Grow(Runner):
    """Reads ``incoming`` and writes each entry, grown to ``output`` bytes, to ``pipeline``."""

    output = 0

    def process(self, mlist: IMailingList | None, msg: Message, msgdata: dict[str, Any]) -> None:
        self.enqueue("pipeline", post(self.output), msgdata)


@pytest.mark.parametrize("limit", [LIMIT, 0], ids=["given", "the-brokers"])
def test_a_runner_whose_output_is_too_big_shunts_its_entry_once(
    tmp_path: Path, prefix: str, limit: int
) -> None:
    queues = {"backend": "amqp", "amqp_url": URL, "amqp_prefix": prefix,
              "amqp_max_message_size": str(limit)}  # fmt: skip
    site = Site(load_config(None, overrides={"paths": {"var_dir": str(tmp_path)},
                                             "queues": queues}))  # fmt: skip
    runner = Grow(site, "incoming")
    runner.output = 2 * LIMIT if limit else OVER_THE_BROKER
    try:
        runner.queue("incoming").enqueue(post(100), {"list_id": ""})
        assert runner.switchboard.wait(5)
        assert runner.run_once() == 1
    finally:
        runner.close()
        site.close()
    # Shunted once, with the reason; not left on incoming to be taken again.
    assert size(prefix, "incoming") == 0
    assert size(prefix, "pipeline") == 0
    with browse(AmqpStore(URL, prefix=prefix).link, "shunt") as messages:
        reasons = [str(m.headers[REASON_HEADER]) for m in messages]
    assert len(reasons) == 1 and "incoming: EntryTooBig: an entry of" in reasons[0]


def lmtp_site(tmp_path: Path, prefix: str, max_size: str, broker_size: str) -> tuple[Path, int]:
    port = free_port()
    queues = {"backend": "amqp", "amqp_url": URL, "amqp_prefix": prefix,
              "amqp_max_message_size": broker_size}  # fmt: skip
    path = write_site_config(
        tmp_path, lmtp_port=port, running=("lmtp",),
        extra_sections={"queues": queues, "mta": {"max_message_size": max_size}},
    )  # fmt: skip
    with prepared_site(path) as site:
        site.lists.create(LIST)
    return path, port


def send(port: int, data: bytes) -> tuple[int, str]:
    """One LMTP transaction for LIST; the code and text of its one reply."""
    with smtplib.LMTP("127.0.0.1", port, timeout=60) as lmtp:
        try:
            lmtp.sendmail("poster@example.com", [LIST], data)
        except smtplib.SMTPRecipientsRefused as error:
            code, text = error.recipients[LIST]
            return code, text.decode()
        except smtplib.SMTPResponseException as error:
            return error.smtp_code, error.smtp_error.decode()
    return 250, ""


@pytest.mark.slow
def test_lmtp_announces_the_given_limit_and_refuses_more_with_552(
    tmp_path: Path, prefix: str
) -> None:
    path, port = lmtp_site(tmp_path, prefix, "40MB", "1MB")
    with running_master(path, port):
        with smtplib.LMTP("127.0.0.1", port, timeout=10) as lmtp:
            lmtp.ehlo("mta.example.org")
            announced = int(lmtp.esmtp_features["size"])
        assert announced < 1024 * 1024
        code, text = send(port, post(announced))
        assert code == 552, text
        assert send(port, post(100))[0] == 250
    assert size(prefix, "incoming") == 1


@pytest.mark.slow
def test_lmtp_answers_552_when_the_broker_refuses(tmp_path: Path, prefix: str) -> None:
    """No limit given, the broker's own refusal: 552 where it was 451, again and again."""
    path, port = lmtp_site(tmp_path, prefix, "200MB", "0")
    with running_master(path, port):
        code, text = send(port, post(OVER_THE_BROKER))
        if code == 250:
            pytest.skip(f"this broker takes messages of {OVER_THE_BROKER} bytes")
        assert code == 552 and "Message too big to queue" in text, (code, text)
        assert send(port, post(100))[0] == 250
    assert size(prefix, "incoming") == 1
