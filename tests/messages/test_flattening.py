"""A post is written to bytes once while no handler changes it, and afresh after."""

from __future__ import annotations

from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.parser import BytesParser

from posthorn.messages.flattening import Flattener
from posthorn.messages.folding import CACHED_COMPAT32
from posthorn.queues.entry import message_bytes

RAW = b"From: a@example.net\nTo: dev@example.org\nSubject: hi\nMessage-ID: <1@x>\n\nHello.\n"


def parsed() -> Message:
    return BytesParser(policy=CACHED_COMPAT32).parsebytes(RAW)


def test_an_unchanged_message_is_written_once() -> None:
    flattener, msg = Flattener(), parsed()
    first = flattener.bytes_of(msg)
    assert flattener.bytes_of(msg) is first
    assert first == message_bytes(msg)


def test_a_changed_header_or_body_is_written_afresh() -> None:
    flattener, msg = Flattener(), parsed()
    before = flattener.bytes_of(msg)
    # What dmarc does after to-archive: the archive's copy keeps the real From.
    msg.replace_header("From", "a via dev <dev@example.org>")
    munged = flattener.bytes_of(msg)
    assert b"From: a@example.net" in before and munged == message_bytes(msg)
    msg.set_payload("Hello.\n-- \nfooter\n")
    assert flattener.bytes_of(msg) == message_bytes(msg) != munged


def test_a_changed_part_is_written_afresh() -> None:
    flattener = Flattener()
    msg = MIMEMultipart()
    msg.attach(MIMEText("one"))
    before = flattener.bytes_of(msg)
    part = msg.get_payload(0)
    assert isinstance(part, Message)
    part.set_payload("two")
    assert flattener.bytes_of(msg) == message_bytes(msg) != before
    msg.attach(MIMEText("three"))
    assert b"three" in flattener.bytes_of(msg)


def test_another_message_or_a_header_object_is_never_reused() -> None:
    flattener, one, two = Flattener(), parsed(), parsed()
    assert flattener.bytes_of(one) is not flattener.bytes_of(two)
    subject = Header("hi", "utf-8")
    two["X-Note"] = subject  # type: ignore[assignment]
    first = flattener.bytes_of(two)
    subject.append("there")
    assert flattener.bytes_of(two) == message_bytes(two) != first
