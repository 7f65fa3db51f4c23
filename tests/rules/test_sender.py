"""Strict sender identity: a From that two parsers could read differently is nobody."""

from __future__ import annotations

import email

import pytest

from posthorn.sender import sender_address


def sender_of(from_value: str | None, extra: str = "") -> str | None:
    head = f"From: {from_value}\n" if from_value is not None else ""
    return sender_address(email.message_from_string(f"{head}{extra}Subject: x\n\nbody\n"))


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("alice@example.com", "alice@example.com"),
        ("Alice <Alice@Example.COM>", "alice@example.com"),
        ('"Alice Liddell" <alice@example.com>', "alice@example.com"),
        ("=?utf-8?q?Alice?= <alice@example.com>", "alice@example.com"),
    ],
)
def test_plain_froms_name_their_sender(header: str, expected: str) -> None:
    assert sender_of(header) == expected


@pytest.mark.parametrize(
    "header",
    [
        "alice@example.com, mallory@evil.example",  # two addresses
        '"alice@example.com" <mallory@evil.example>',  # an address in the display name
        "alice@example.com <mallory@evil.example>",
        "alice@example.com)<mallory@evil.example>",  # the CVE-2023-27043 shape
        "mallory@evil.example (alice@example.com)",  # a comment
        "Alice <alice@example.com> (really)",
        "=?utf-8?q?alice=40example=2Ecom?=@evil.example",  # encoded word in the addr-spec
        '"alice@example.com"@evil.example',  # quoted local part holding an @
        "<alice@example.com",  # unterminated
        "undisclosed-recipients:;",  # a group, no address
        "",
    ],
)
def test_ambiguous_froms_name_nobody(header: str) -> None:
    assert sender_of(header) is None


def test_no_from_and_two_froms_name_nobody() -> None:
    assert sender_of(None) is None
    assert sender_of("alice@example.com", extra="From: mallory@evil.example\n") is None
