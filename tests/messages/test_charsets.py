"""An unknown charset is read as UTF-8 with replacements, never raising."""

from __future__ import annotations

from email import message_from_bytes

from posthorn.messages.charsets import decode_text
from posthorn.rules.administrivia import _body_lines


def test_unknown_charset_is_read_as_utf8() -> None:
    assert decode_text("café".encode(), "x-no-such") == "café"
    assert decode_text(b"caf\xe9", "latin-1") == "café"
    assert decode_text(b"caf\xe9", None) == "caf\ufffd"


def test_rule_reads_a_body_in_an_unknown_charset() -> None:
    raw = (
        b"From: a@example.net\r\nSubject: =?x-no-such?q?caf=E9?=\r\n"
        b"Content-Type: text/plain; charset=x-no-such\r\n\r\nsubscribe\r\n"
    )
    assert _body_lines(message_from_bytes(raw)) == ["subscribe"]
