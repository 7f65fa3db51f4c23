"""Nothing over 998 octets reaches the MTA; what cannot be sent cheaply is refused.

Posts go in over LMTP to a running site whose MTA is a sink; every line of every
message the sink receives (members' copies and the archive's) must be at most 998
octets.  The shapes: a Subject of short encoded words that decode into one long word
(the prefix step used to write it back as one unfoldable line), and a body part
declared quoted-printable whose lines are longer anyway.
Hostile header shapes get a 554 that names the limit, before anything is queued.
"""

from __future__ import annotations

from email import message_from_bytes

import pytest

from posthorn.messages.oneline import decoded_header
from tests.smtpsink import WAIT_DEADLINE
from tests.waiting import wait_for

from .conftest import ARCHIVE, LIST, MEMBER, POSTER, Running

pytestmark = pytest.mark.slow

MAX_LINE = 998


def post(subject: str, message_id: str, extra: str = "", body: str = "Hello.\r\n") -> bytes:
    return (
        f"From: {POSTER}\r\nTo: {LIST}\r\nSubject: {subject}\r\n"
        f"Message-ID: <{message_id}@example.com>\r\n{extra}\r\n{body}"
    ).encode()


def copies(running: Running, marker: bytes) -> list[bytes]:
    with running.sink.lock:
        return [content for _, _, content in running.sink.received if marker in content]


def longest_line(content: bytes) -> int:
    return max(len(line) for line in content.split(b"\r\n"))


def delivered(running: Running, marker: bytes) -> list[bytes]:
    """The member's and the archive's copy of the post whose Message-ID has ``marker``."""

    def both() -> list[bytes] | None:
        with running.sink.lock:
            found = [(r, c) for _, r, c in running.sink.received if marker in c]
        targets = {address for rcpts, _ in found for address in rcpts}
        return [c for _, c in found] if {MEMBER, ARCHIVE} <= targets else None

    return wait_for(both, f"{marker!r} at the member and the archive", WAIT_DEADLINE)


def test_subject_decoding_to_one_long_word_goes_out_folded(running: Running) -> None:
    chunks = " ".join(f"=?us-ascii?q?{'x' * 60}?=" for _ in range(16))
    assert running.post(post(chunks, "long-subject")) == {}
    contents = delivered(running, b"long-subject@")
    for content in contents:
        assert longest_line(content) <= MAX_LINE
    subjects = {decoded_header(message_from_bytes(c)["subject"]) for c in contents}
    assert subjects == {"[Dev] " + "x" * 960}


def test_quoted_printable_part_with_long_lines_is_requoted(running: Running) -> None:
    extra = (
        "MIME-Version: 1.0\r\nContent-Type: text/plain\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n"
    )
    body = "y" * 3000 + "\r\n"
    assert running.post(post("Long lines", "long-body", extra, body)) == {}
    for content in delivered(running, b"long-body@"):
        assert longest_line(content) <= MAX_LINE


HOSTILE = [
    (
        "Message-ID",
        "<" + "a" * 1200 + "@example.com>",
        "Word too long in message-id header (limit 900 bytes)",
    ),
    ("To", "(" * 30 + ")" * 30 + " " + LIST, "Comments nested too deep in to (limit 20)"),
    (
        "In-Reply-To",
        "( " * 2000 + ") " * 2000 + "<x@y>",
        "Comments nested too deep in in-reply-to (limit 20)",
    ),
    ("Subject", "=?utf-8?q?a?= " * 201, "Too many encoded words in subject (limit 200)"),
    ("X-Note", "=?utf-8?q?a?= " * 5000, "Too many encoded words in x-note (limit 200)"),
    (
        "Content-Type",
        "text/plain" + "".join(f"; p{i}=v" for i in range(101)),
        "Too many MIME parameters in content-type (limit 100)",
    ),
    (
        "Cc",
        ", ".join(f"u{i}@example.com" for i in range(201)),
        "Too many addresses in cc (limit 200)",
    ),
    ("Cc", '"' + "n " * 600 + '" <a@example.com>', "Address too long in cc (limit 1000 bytes)"),
    ("Cc", "g1: g2: g3: a@example.com;;;", "Nested address groups in cc"),
]


@pytest.mark.parametrize(
    ("name", "value", "reply"), HOSTILE, ids=[h[2].split(" (")[0] for h in HOSTILE]
)
def test_hostile_headers_are_refused_naming_the_limit(
    running: Running, name: str, value: str, reply: str
) -> None:
    extra = f"{name}: {value}\r\n"
    before = len(running.queue("incoming"))
    assert running.post(post("Hostile", f"hostile-{abs(hash(value))}", extra)) == {
        LIST: (554, f"5.6.0 {reply}".encode())
    }
    assert len(running.queue("incoming")) == before


def test_headers_over_the_total_are_refused(running: Running) -> None:
    # 20 fields of 60 KiB each: every one under its own cap, all together over 1 MB.
    extra = "".join(f"X-Fill-{i}: " + ("v" * 79 + "\r\n ") * 768 + "end\r\n" for i in range(20))
    replies = running.post(post("Fat", "fat-headers", extra))
    assert replies == {LIST: (554, b"5.6.0 Headers too large (limit 1048576 bytes in all)")}
