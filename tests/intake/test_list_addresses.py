"""Recipient parsing follows Mailman's LMTP sub-address conventions."""

from __future__ import annotations

import pytest

from posthorn.intake.list_addresses import InvalidRecipient, decode_verp, parse_recipient


@pytest.mark.parametrize(
    ("address", "list_name", "subaddress", "extra", "queue"),
    [
        ("dev@example.org", "dev", None, None, "incoming"),
        ("Dev@Example.ORG", "dev", None, None, "incoming"),
        ("dev+tag@example.org", "dev", None, "tag", "incoming"),
        ("dev-owner@example.org", "dev", "owner", None, "incoming"),
        ("dev-bounces@example.org", "dev", "bounces", None, "bounce"),
        ("dev-bounces+al=example.com@example.org", "dev", "bounces", "al=example.com", "bounce"),
        ("dev-confirm+AbC123@example.org", "dev", "confirm", "AbC123", "command"),
        ("dev-request@example.org", "dev", "request", None, "command"),
        ("dev-join@example.org", "dev", "join", None, "command"),
        ("dev-leave@example.org", "dev", "leave", None, "command"),
        ("dev-subscribe@example.org", "dev", "subscribe", None, "command"),
        ("dev-unsubscribe@example.org", "dev", "unsubscribe", None, "command"),
        ("my-list-owner@example.org", "my-list", "owner", None, "incoming"),
        ("my-list@example.org", "my-list", None, None, "incoming"),
        ("<dev@example.org>", "dev", None, None, "incoming"),
    ],
)
def test_parse(
    address: str, list_name: str, subaddress: str | None, extra: str | None, queue: str
) -> None:
    recipient = parse_recipient(address)
    assert recipient.list_name == list_name
    assert recipient.domain == "example.org"
    assert recipient.fqdn_listname == f"{list_name}@example.org"
    assert recipient.subaddress == subaddress
    assert recipient.extra == extra
    assert recipient.queue == queue


@pytest.mark.parametrize(
    "address", ["", "dev", "@example.org", "dev@", "+x@example.org", '"dev"@example.org']
)
def test_not_a_list_address(address: str) -> None:
    with pytest.raises(InvalidRecipient):
        parse_recipient(address)


def test_a_suffix_always_wins_as_in_mailman() -> None:
    recipient = parse_recipient("dev-owner@example.org")
    assert (recipient.list_name, recipient.subaddress) == ("dev", "owner")


def test_metadata_per_kind() -> None:
    assert parse_recipient("dev@example.org").msgdata() == {
        "to_list": True,
        "subaddress": None,
        "original_recipient": "dev@example.org",
    }
    assert parse_recipient("dev-owner@example.org").msgdata()["to_owner"] is True
    bounce = parse_recipient("dev-bounces+a.b=example.com@example.org").msgdata()
    assert bounce["verp"] == "a.b=example.com"
    assert bounce["verp_recipient"] == "a.b@example.com"
    confirm = parse_recipient("dev-confirm+TOKEN@example.org").msgdata()
    assert (confirm["token"], confirm["to_confirm"]) == ("TOKEN", True)
    assert parse_recipient("dev-subscribe@example.org").msgdata()["to_join"] is True
    assert parse_recipient("dev-unsubscribe@example.org").msgdata()["to_leave"] is True
    assert parse_recipient("dev-request@example.org").msgdata()["to_request"] is True
    # Extra data means nothing to a posting address and is not passed on.
    assert "token" not in parse_recipient("dev+x@example.org").msgdata()


@pytest.mark.parametrize(
    ("extra", "member"),
    [("a=example.com", "a@example.com"), ("a=b=example.com", "a=b@example.com"), ("ab", None)],
)
def test_decode_verp(extra: str, member: str | None) -> None:
    assert decode_verp(extra) == member
