"""``posthorn.queues.parsing`` parses every message exactly as the plain parser does.

The oracle is ``email.message_from_bytes`` on the real-world samples ``make samples``
unpacks and on made-up shapes that put ordinary lines where the parser looks at lines
one by one: right after the headers, next to boundaries, in preambles and epilogues,
in delivery-status blocks.  Each is fed in slices of several sizes.
"""

from __future__ import annotations

import email
import sys
import tracemalloc
from email.message import Message
from pathlib import Path

import pytest

from posthorn.queues.parsing import message_parser
from tests.memory import MIB, large_post

SAMPLES = sorted((Path(sys.prefix) / "share" / "bounce-samples").glob("*.txt"))
BODY = b"".join(b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo%04dabcdefghijklmnopqrstuvwxyz0123\r\n" % i
                for i in range(3000))  # fmt: skip


def made_up() -> list[bytes]:
    no_separator = b"Subject: x\r\nplain line\r\nNot: a header\r\n"
    preamble = (
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n' + BODY + b"--b\r\n\r\n" + BODY
        + b"--b\r\nContent-Type: text/plain\r\n\r\n" + BODY + b"--b--\r\n" + BODY
    )  # fmt: skip
    nested = (
        b'Content-Type: multipart/mixed; boundary="o"\r\n\r\n--o\r\n'
        b'Content-Type: multipart/alternative; boundary="i"\r\n\r\n--i\r\n\r\n'
        + BODY + b"--o--\r\n" + BODY
    )  # fmt: skip
    rfc822 = b"Content-Type: message/rfc822\r\n\r\nSubject: inner\r\n" + BODY
    status = (
        b'Content-Type: multipart/report; boundary="r"\r\n\r\n--r\r\n'
        b"Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; x\r\n"
        b"odd line\r\n\r\nFinal-Recipient: rfc822; a@b\r\n--r--\r\n"
    )
    bare = b"Subject: bare\n\n" + BODY.replace(b"\r\n", b"\n") + b"end\rwith cr\r"
    # Single parts, whose body goes to the parser whole once past a blank line.
    late_blank = no_separator + b"more\r\n\r\n--x\r\nFrom here\r\n\r\n" + BODY
    eight_bit = b"Subject: caf\xc3\xa9\r\n\r\n--\r\n\xff\xfe\r\n\r\nFrom me\r\n-- \r\nsig\r"
    no_slash = b'Content-Type: multipart; boundary="b"\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n'
    empty_body = b"Subject: empty\r\nX-A: 1\r\n\r\n"
    cr_only = b"Subject: cr\rX-A: 1\r\rbody\r\nmore\n\nend"
    single = [late_blank, eight_bit, no_slash, empty_body, cr_only]
    # Header blocks read here or left to the parser: folded fields, odd line ends and
    # controls, a Unix From line, a field without a name, a continuation first.
    head = [
        b"Subject: a\r\n  folded\r\n\tagain\r\nX-B:tight\r\nX-C:   \r\n\r\nbody\r\n",
        b"Subject: x\nX-A: 1\r\n\nbody",
        b"Subject: a\rb\r\nX-A: 1\r\n\r\nbody\r\n",
        b"Subject: a\r\r\nX-A: 1\r\n\r\nbody\r\n",
        b"Subject: a\x0bb\x0cc\x1cd\x85\xe2\x80\xa8e\r\n\r\nbody\r\n",
        b"From me@x.org Fri Dec  4 10:00:00 2026\r\nSubject: u\r\n\r\nbody\r\n",
        b"Subject: x\r\nFrom y\r\nX-A: 1\r\n\r\nbody\r\n",
        b": no name\r\nSubject: x\r\n\r\nbody\r\n",
        b" cont\r\nSubject: x\r\n\r\nbody\r\n",
        b"Content-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nx\r\n",
        b"Content-Type: text/plain\r\n\r\n",
    ]
    return [
        no_separator, preamble, nested, rfc822, status, bare, *single, *head,
        large_post("l@x", 2 * MIB, "1"),
    ]  # fmt: skip


def shape(msg: Message) -> list[object]:
    return [
        (part.get_content_type(), part.preamble, part.epilogue, [type(d) for d in part.defects],
         None if part.is_multipart() else part.get_payload(), list(part.items()))
        for part in msg.walk()
    ]  # fmt: skip


def parse(data: bytes, piece: int) -> Message:
    parser = message_parser()
    for start in range(0, len(data), piece):
        parser.feed(data[start : start + piece])
    return parser.close()


@pytest.mark.parametrize("data", [p.read_bytes() for p in SAMPLES] + made_up())
def test_the_same_message_as_the_plain_parser(data: bytes) -> None:
    expected = email.message_from_bytes(data)
    for piece in (7, 4096, 256 * 1024, len(data) or 1):
        found = parse(data, piece)
        assert shape(found) == shape(expected)
        assert found.as_bytes() == expected.as_bytes()


def test_a_large_attachment_costs_about_its_size_to_parse() -> None:
    data = large_post("l@x.org", 8 * MIB, "2")
    tracemalloc.start()
    try:
        msg = parse(data, 256 * 1024)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert msg.get_payload(1).get_filename() == "data"
    # The plain parser peaks near 2.8 times the size: lines, then their join.
    assert peak < 2.2 * len(data)
