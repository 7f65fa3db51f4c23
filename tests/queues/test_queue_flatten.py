"""``posthorn.queues.flatten`` writes exactly what ``BytesGenerator`` writes, with no copies.

The oracle is the standard library itself, on the real-world messages ``make samples``
unpacks (bounces of every shape: multipart reports, message/rfc822 and
message/delivery-status parts, 8-bit text) and on a few made-up shapes that take the
buffered way (a multipart without a boundary, a 7-bit policy, a signed multipart).
"""

from __future__ import annotations

import email
import hashlib
import itertools
import sys
import tracemalloc
from email.generator import NLCRE, BytesGenerator
from email.message import Message
from email.policy import compat32, default
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest

from posthorn.messages.folding import CACHED_COMPAT32
from posthorn.queues.flatten import (
    flatten_to,
    line_ends,
    message_sha1,
    message_size,
    message_to_bytes,
)
from tests.memory import MIB, large_post

SAMPLES = sorted((Path(sys.prefix) / "share" / "bounce-samples").glob("*.txt"))
POLICIES = [compat32, compat32.clone(linesep="\r\n"), compat32.clone(max_line_length=0), default]


def stdlib(msg: Message, policy: Any, mangle: bool) -> bytes:
    buffer = BytesIO()
    BytesGenerator(buffer, mangle_from_=mangle, policy=policy).flatten(msg)
    return buffer.getvalue()


def ours(msg: Message, policy: Any, mangle: bool) -> bytes:
    buffer = BytesIO()
    flatten_to(buffer, msg, policy=policy, mangle_from=mangle)
    return buffer.getvalue()


def made_up() -> list[bytes]:
    no_boundary = email.message_from_bytes(b"Subject: x\r\n\r\nbody\r\n")
    no_boundary.set_type("multipart/mixed")
    no_boundary.set_payload([email.message_from_bytes(b"Subject: part\r\n\r\nFrom here\r\n")])
    signed = (
        b'Content-Type: multipart/signed; boundary="s"\r\n\r\n--s\r\n'
        b"Content-Type: text/plain\r\n\r\nsigned   \r\n--s\r\n"
        b"Content-Type: application/pgp-signature\r\n\r\nsig\r\n--s--\r\n"
    )
    eight_bit = "Subject: 8bit\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nFrom caf\u00e9\r\n"
    mixed_ends = b"Subject: ends\n\na\r\nb\rc\nd\r\r\ne\n\r\n\rf\r"
    from_lines = b"Subject: f\r\n\r\na\r\nFrom b\r\n>From c\r\nFromage\nFrom d\rFrom e\n"
    return [
        no_boundary.as_bytes(), signed, eight_bit.encode(), mixed_ends, from_lines,
        large_post("l@x.org", 300_000, "1"),
    ]  # fmt: skip


@pytest.mark.parametrize("data", [p.read_bytes() for p in SAMPLES] + made_up())
def test_the_same_bytes_as_the_standard_library(data: bytes) -> None:
    for policy in [*POLICIES, compat32.clone(cte_type="7bit")]:
        for mangle in (False, True):
            try:
                expected = stdlib(email.message_from_bytes(data, policy=policy), policy, mangle)
            except (LookupError, UnicodeError) as error:
                # What the 7-bit policy cannot re-encode fails the same way.
                with pytest.raises(type(error)):
                    ours(email.message_from_bytes(data, policy=policy), policy, mangle)
                continue
            assert ours(email.message_from_bytes(data, policy=policy), policy, mangle) == expected
    msg = email.message_from_bytes(data)
    assert message_to_bytes(msg) == msg.as_bytes()
    assert message_size(msg) == len(msg.as_bytes())


@pytest.mark.parametrize("data", [p.read_bytes() for p in SAMPLES] + made_up())
def test_the_remembering_policy_writes_what_compat32_writes(data: bytes) -> None:
    for length in (78, 0):
        policy, oracle = (
            CACHED_COMPAT32.clone(max_line_length=length),
            compat32.clone(max_line_length=length),
        )
        for mangle in (False, True):
            expected = stdlib(email.message_from_bytes(data, policy=oracle), oracle, mangle)
            assert ours(email.message_from_bytes(data, policy=policy), policy, mangle) == expected


def test_line_ends_are_replaced_as_the_standard_library_substitutes_them() -> None:
    pieces = ["a", "\r", "\n", "\r\n", "\n\r"]
    texts = ["".join(combo) for combo in itertools.product(pieces, repeat=4)]
    for newline in ("\n", "\r\n", "\r"):
        for text in texts:
            assert line_ends(text, newline) == NLCRE.sub(newline, text), (text, newline)


def test_a_multipart_without_boundary_gets_one_as_before() -> None:
    msg = email.message_from_bytes(b"Subject: x\r\n\r\nbody\r\n")
    msg.set_type("multipart/mixed")
    msg.set_payload([email.message_from_bytes(b"Subject: part\r\n\r\ntext\r\n")])
    data = message_to_bytes(msg)
    assert msg.get_boundary() is not None
    assert f"--{msg.get_boundary()}--".encode() in data
    assert message_sha1(msg) == hashlib.sha1(msg.as_bytes()).hexdigest()


def test_a_large_post_is_written_without_a_copy_of_it() -> None:
    msg = email.message_from_bytes(large_post("l@x.org", 8 * MIB, "2"))
    tracemalloc.start()
    try:
        flatten_to(BytesIO(), msg)
        baseline, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        message_size(msg)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The standard library's generator held some five copies at once.
    assert peak - baseline < MIB
