"""The message store and held messages."""

from __future__ import annotations

import base64
import hashlib
from email.message import EmailMessage

import pytest

from posthorn.errors import DuplicateMessageError, NoSuchMessageError
from posthorn.interfaces.messages import IHeldMessage, message_id_hash
from posthorn.site import Site

MESSAGE_ID = "<87a6k9kkxq.fsf@example.org>"


def make_message(message_id: str | None = MESSAGE_ID, body: str = "Hello.\n") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "anne@example.org"
    msg["To"] = "dev@example.org"
    msg["Subject"] = "A test"
    if message_id is not None:
        msg["Message-ID"] = message_id
    msg.set_content(body)
    return msg


def test_the_hash_is_mailmans() -> None:
    expected = base64.b32encode(hashlib.sha1(b"87a6k9kkxq.fsf@example.org").digest()).decode()
    assert message_id_hash(MESSAGE_ID) == expected
    assert message_id_hash(" 87a6k9kkxq.fsf@example.org ") == expected
    # The value GNU Mailman's own tests expect for this Message-ID.
    assert message_id_hash("<ant>") == "MS6QLWERIJLGCRF44J7USBFDELMNT2BW"


def test_add_and_get(site: Site) -> None:
    msg = make_message()
    hash32 = site.messages.add(msg)
    assert hash32 == message_id_hash(MESSAGE_ID)
    stored = site.messages.get(MESSAGE_ID)
    assert stored is not None and stored["Subject"] == "A test"
    assert stored.get_content() == "Hello.\n"  # type: ignore[attr-defined]
    assert site.messages.get("87a6k9kkxq.fsf@example.org") is not None
    by_hash = site.messages.get_by_hash(hash32)
    assert by_hash is not None and by_hash.as_bytes() == stored.as_bytes()
    assert site.messages.get("<other@example.org>") is None


def test_duplicates_and_deletion(site: Site) -> None:
    hash32 = site.messages.add(make_message())
    # The same message again is harmless; another one under its Message-ID is not.
    assert site.messages.add(make_message().as_bytes()) == hash32
    with pytest.raises(DuplicateMessageError):
        site.messages.add(make_message(body="Something else.\n"))
    site.messages.delete(MESSAGE_ID)
    assert site.messages.get(MESSAGE_ID) is None
    with pytest.raises(NoSuchMessageError):
        site.messages.delete(MESSAGE_ID)


def test_a_message_needs_exactly_one_message_id(site: Site) -> None:
    with pytest.raises(ValueError, match="exactly one Message-ID"):
        site.messages.add(make_message(None))
    twice = make_message().as_bytes().replace(b"Message-ID:", b"Message-ID: <2@x.org>\nMessage-ID:")
    with pytest.raises(ValueError, match="exactly one Message-ID"):
        site.messages.add(twice)


def test_hold_and_moderate(site: Site) -> None:
    msg = make_message()
    first = site.messages.hold(
        "dev.example.org", msg, "Post by non-member", "anne@example.org", "A test",
        {"recipients": {"b@example.org", "a@example.org"}, "approved": False, "rule_hits": ("x",)},
    )  # fmt: skip
    # The same message cross-posted and held for another list is another request.
    second = site.messages.hold("ops.example.org", msg, "Too big", "anne@example.org", "A test")
    assert first != second
    held = site.messages.get_held(first)
    assert isinstance(held, IHeldMessage)
    assert (held.list_id, held.reason, held.sender) == (
        "dev.example.org",
        "Post by non-member",
        "anne@example.org",
    )
    assert held.message_id_hash == message_id_hash(MESSAGE_ID)
    assert dict(held.msgdata) == {
        "recipients": ["a@example.org", "b@example.org"], "approved": False, "rule_hits": ["x"],
    }  # fmt: skip
    assert held.message["Message-ID"] == MESSAGE_ID and held.raw == msg.as_bytes()
    assert [h.request_id for h in site.messages.held_for_list("dev.example.org")] == [first]
    assert site.messages.held_count("ops.example.org") == 1
    site.messages.remove_held(first)
    assert site.messages.get_held(first) is None
    with pytest.raises(NoSuchMessageError):
        site.messages.remove_held(first)


def test_metadata_must_be_storable(site: Site) -> None:
    with pytest.raises(ValueError, match="cannot be stored"):
        site.messages.hold("dev.example.org", make_message(), "r", "s", "t", {"x": object()})
