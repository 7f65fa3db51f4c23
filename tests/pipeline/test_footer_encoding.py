"""A post keeps its transfer encoding when the footer is added: end to end through a
real master (LMTP in, the runners, SMTP out to a sink), and case by case."""

from __future__ import annotations

import email
import email.policy
import smtplib
import subprocess
from pathlib import Path

import pytest

from posthorn.handlers.decorate import _join_plain
from posthorn.site import Site
from tests.sites import master_with_sink

LIST = "dev@example.org"
POST = (
    b"From: anne@example.com\r\nTo: dev@example.org\r\nSubject: plain words\r\n"
    b"Message-ID: <plain@example.com>\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=UTF-8; format=flowed\r\n"
    b"Content-Transfer-Encoding: 7bit\r\n\r\nJust ASCII here.\r\n"
)


def arrange(site: Site) -> None:
    site.lists.create(LIST)
    for address in ("anne@example.com", "bob@example.com"):
        site.lists.subscribe(LIST, address)


@pytest.mark.slow
def test_a_plain_ascii_post_goes_out_7bit_with_its_footer(tmp_path: Path) -> None:
    running = ("lmtp", "incoming", "pipeline", "outgoing")
    with master_with_sink(tmp_path, running=running, arrange=arrange,
                          output=subprocess.DEVNULL) as (_, lmtp_port, sink):  # fmt: skip
        with smtplib.LMTP("127.0.0.1", lmtp_port, timeout=10) as lmtp:
            lmtp.sendmail("anne@example.com", [LIST], POST)
        msg = sink.wait("bob@example.com", "plain words")
    assert msg["Content-Transfer-Encoding"] == "7bit"
    body = msg.get_payload()
    assert isinstance(body, str)
    assert "Just ASCII here." in body and "To unsubscribe send an email to" in body


@pytest.mark.parametrize(
    ("cte", "body", "footer", "expected"),
    [
        ("7bit", b"hello\n", "-- \nfooter", "7bit"),
        (None, b"hello\n", "-- \nfooter", "7bit"),
        ("7bit", b"hello\n", "-- \ncaf\u00e9", "quoted-printable"),
        ("8bit", b"h\xc3\xa9llo\n", "-- \nfooter", "8bit"),
        ("quoted-printable", b"h=C3=A9llo\n", "-- \nfooter", "quoted-printable"),
        ("base64", b"aGVsbG8K\n", "-- \nfooter", "base64"),
    ],
)
def test_the_transfer_encoding_follows_the_post(
    cte: str | None, body: bytes, footer: str, expected: str
) -> None:
    head = b"Content-Type: text/plain; charset=utf-8\n"
    if cte:
        head += f"Content-Transfer-Encoding: {cte}\n".encode()
    msg = email.message_from_bytes(head + b"\n" + body, policy=email.policy.compat32)
    assert _join_plain(msg, "", footer)
    assert msg["Content-Transfer-Encoding"] == expected
    text = msg.get_payload(decode=True)
    assert isinstance(text, bytes) and text.decode("utf-8").endswith(footer + "\n")
