"""The structural precheck: caps named in the reply, and everything under them parses."""

from __future__ import annotations

import email
import email.policy
import pickle
from email.message import Message

import pytest

from posthorn.intake.precheck import (
    Limits,
    StructureError,
    check_structure,
    normalize_line_endings,
)

DEFAULTS = Limits()
LEAF = b"Content-Type: text/plain\r\n\r\nhello\r\n"


def nested(depth: int, kind: str = "multipart") -> bytes:
    """A message whose text part sits ``depth`` containers deep."""
    body = LEAF
    for level in range(depth):
        if kind == "multipart" or (kind == "mixed" and level % 2):
            boundary = b"b%d" % level
            body = (
                b'Content-Type: multipart/mixed; boundary="%s"\r\n\r\n--%s\r\n%s\r\n--%s--\r\n'
                % (boundary, boundary, body, boundary)
            )
        else:
            body = b"Content-Type: message/rfc822\r\n\r\n" + body
    return b"Subject: nested\r\nMessage-ID: <n@example.org>\r\n" + body


def wide(parts: int) -> bytes:
    body = b"".join(b"--b\r\nContent-Type: text/plain\r\n\r\npart %d\r\n" % i for i in range(parts))
    head = b'Subject: wide\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
    return head + body + b"--b--\r\n"


def headers(count: int, size: int = 20) -> bytes:
    """``count`` fields of ``size`` bytes each, CRLF included, in words of 10 bytes."""
    value = (b"vvvvvvvvv " * (size // 10 + 1))[: size - 11]
    fields = b"".join(b"X-H%04d: %s\r\n" % (i, value) for i in range(count))
    return fields + b"\r\nbody\r\n"


def refused(data: bytes, limits: Limits = DEFAULTS) -> str:
    with pytest.raises(StructureError) as caught:
        check_structure(data, limits)
    return caught.value.reply


def survives(data: bytes) -> None:
    """Every way a runner handles a message: parse, walk, generate and pickle."""
    for policy in (email.policy.compat32, email.policy.default):
        msg = email.message_from_bytes(data, policy=policy)
        list(msg.walk())
        msg.as_bytes()
        pickle.loads(pickle.dumps(msg))


@pytest.mark.parametrize("kind", ["multipart", "rfc822", "mixed"])
def test_depth_at_the_default_cap_parses_and_pickles(kind: str) -> None:
    data = nested(DEFAULTS.max_mime_depth, kind)
    check_structure(data, DEFAULTS)
    survives(data)
    assert refused(nested(DEFAULTS.max_mime_depth + 1, kind)) == (
        "554 5.6.0 MIME nesting too deep (limit 50)"
    )


def test_parts_at_the_default_cap_parse_and_pickle() -> None:
    data = wide(DEFAULTS.max_mime_parts)
    check_structure(data, DEFAULTS)
    survives(data)
    reply = refused(wide(DEFAULTS.max_mime_parts + 1))
    assert reply == "554 5.6.0 Too many MIME parts (limit 1000)"


def test_headers_at_the_default_caps_parse_and_pickle() -> None:
    data = headers(DEFAULTS.max_header_count)
    check_structure(data, DEFAULTS)
    survives(data)
    assert refused(headers(DEFAULTS.max_header_count + 1)) == (
        "554 5.6.0 Too many header fields (limit 1000)"
    )
    check_structure(headers(1, DEFAULTS.max_header_size), DEFAULTS)
    assert refused(headers(1, DEFAULTS.max_header_size + 1)) == (
        "554 5.6.0 Header field too long (limit 102400 bytes)"
    )


def test_folded_header_counts_as_one_long_field() -> None:
    folded = b"Subject: x\r\n" + b" more\r\n" * 100 + b"\r\nbody\r\n"
    assert refused(folded, Limits(max_header_size=500)).endswith("(limit 500 bytes)")
    check_structure(folded, Limits(max_header_count=1))


def test_part_headers_are_capped_too() -> None:
    part = b"--b\r\n" + headers(30).replace(b"\r\nbody", b"Content-Type: text/plain\r\n\r\nbody")
    data = b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n' + part + b"--b--\r\n"
    assert "Too many header fields" in refused(data, Limits(max_header_count=20))


def test_rfc2231_boundary_is_read_as_the_parser_reads_it() -> None:
    inner = nested(3).split(b"\r\n", 2)[2]
    data = (
        b"Content-Type: multipart/mixed; boundary*0=ou; boundary*1=ter\r\n\r\n"
        b"--outer\r\n" + inner + b"\r\n--outer--\r\n"
    )
    assert "nesting too deep" in refused(data, Limits(max_mime_depth=3))
    check_structure(data, Limits(max_mime_depth=4))


def test_digest_parts_are_messages_by_default() -> None:
    # A digest part without Content-Type is a message/rfc822: one level deeper.
    data = (
        b'Content-Type: multipart/digest; boundary="d"\r\n\r\n--d\r\n\r\n'
        b'Content-Type: multipart/mixed; boundary="m"\r\n\r\n--m\r\n\r\nx\r\n--m--\r\n--d--\r\n'
    )
    parts = email.message_from_bytes(data).get_payload()
    assert isinstance(parts, list) and isinstance(parts[0], Message)
    assert parts[0].get_content_type() == "message/rfc822"
    assert "nesting too deep" in refused(data, Limits(max_mime_depth=2))
    check_structure(data, Limits(max_mime_depth=3))


def test_a_delimiter_of_an_outer_multipart_ends_the_inner_one() -> None:
    data = (
        b'Content-Type: multipart/mixed; boundary="o"\r\n\r\n--o\r\n'
        b'Content-Type: multipart/mixed; boundary="i"\r\n\r\n--i\r\n\r\na\r\n'
        b"--o\r\n\r\nb\r\n--o\r\n\r\nc\r\n--o--\r\n"
    )
    # Parts: inner one, outer two (a, then b, then c) = 4, as the parser counts them.
    msg = email.message_from_bytes(data)
    assert sum(1 for _ in msg.walk()) - 1 == 4
    check_structure(data, Limits(max_mime_parts=4))
    assert "Too many MIME parts" in refused(data, Limits(max_mime_parts=3))


def test_nesting_inside_a_delivery_report_is_refused() -> None:
    data = (
        b"Content-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; x\r\n\r\n"
        b"Content-Type: multipart/mixed; boundary=z\r\n--z\r\n\r\n"
    )
    assert refused(data) == "554 5.6.0 Nested multipart/mixed in a delivery report"
    ordinary = b"Content-Type: message/delivery-status\r\n\r\nA: 1\r\n\r\nB: 2\r\nC: 3\r\n"
    check_structure(ordinary, DEFAULTS)


def test_multipart_without_boundary_is_a_leaf() -> None:
    check_structure(b"Content-Type: multipart/mixed\r\n\r\n--x\r\n\r\n", Limits(max_mime_depth=0))


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        (b"a\r\nb\r\n", b"a\r\nb\r\n"),
        (b"a\nb\n", b"a\r\nb\r\n"),
        (b"a\rb\r", b"a\r\nb\r\n"),
        (b"a\r\n.\nb\r\r\n", b"a\r\n.\r\nb\r\n\r\n"),
    ],
)
def test_normalize_line_endings(raw: bytes, normal: bytes) -> None:
    assert normalize_line_endings(raw) == normal


def test_header_names_of_the_top_block_only() -> None:
    data = b"Subject: a\r\nMessage-ID: <x>\r\n\r\nX-Body: no\r\n"
    assert check_structure(data, DEFAULTS) == {b"subject", b"message-id"}
    assert b"message-id" not in check_structure(b"Subject: a\r\n\r\nMessage-ID: <x>\r\n", DEFAULTS)
    part = b"Message-ID: <inner>\r\n\r\nhi\r\n"
    nested = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n" + part + b"--b--\r\n"
    assert check_structure(nested, DEFAULTS) == {b"content-type"}
    # A first line that continues nothing is already the body, as the parser reads it.
    assert check_structure(b" folded\r\nMessage-ID: <x>\r\n\r\n", DEFAULTS) == set()
