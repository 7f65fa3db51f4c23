"""``to_wire``: what it mends so no line passes 998 octets, and what it refuses."""

from __future__ import annotations

import email

import pytest

from posthorn.delivery.wire import MAX_LINE, LineTooLong, to_wire


def longest(data: bytes) -> int:
    return max(len(line) for line in data.split(b"\r\n"))


def test_unstructured_header_and_lying_encodings_are_mended() -> None:
    lines = [
        b"From: a@example.org",
        b"Subject: [Dev] " + b"s" * 1500,
        b"X-Note: " + b"n" * 1200,
        b'Content-Type: multipart/mixed; boundary="b"',
        b"",
        b"p" * 1200,
        b"--b",
        b"Content-Type: text/plain",
        b"Content-Transfer-Encoding: quoted-printable",
        b"",
        b"q" * 2000,
        b"--b",
        b"Content-Type: application/pdf",
        b"Content-Transfer-Encoding: base64",
        b"",
        b"QUJD" * 400,
        b"--b--",
    ]
    msg = email.message_from_bytes(b"\r\n".join(lines) + b"\r\n")
    data = to_wire(msg)
    assert longest(data) <= MAX_LINE
    sent = email.message_from_bytes(data)
    text, pdf = sent.get_payload()  # type: ignore[misc]
    assert text.get_payload(decode=True).strip() == b"q" * 2000
    assert pdf.get_payload(decode=True) == b"ABC" * 400


def test_an_unfoldable_structured_header_is_refused() -> None:
    msg = email.message_from_bytes(b"Message-ID: <" + b"m" * 1200 + b"@x>\r\n\r\nbody\r\n")
    with pytest.raises(LineTooLong, match="Message-ID header over 998 octets"):
        to_wire(msg)
