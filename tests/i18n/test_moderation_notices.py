"""Moderation notices through the in-process incoming runner: each reader's language.

The held notice goes to the moderators in the list's language, the held-poster and
rejection notices to the poster in the poster's own, each with the rules' reasons
translated; the held record keeps the reasons in English.
"""

from __future__ import annotations

from collections.abc import Callable
from email.message import Message
from typing import Any

from posthorn.i18n import Translator
from posthorn.interfaces.lists import IMailingList
from posthorn.model.bans import DatabaseBanManager
from posthorn.site import Site
from tests.incoming.fixtures import MEMBER, Entries, make_post

Take = Callable[[str], Entries]
Post = Callable[..., str]
NO_SUBJECT = "The message has no subject"
STRANGER = "stranger@example.net"


def text_in_charset(msg: Message) -> str:
    part = msg.get_payload(0) if msg.is_multipart() else msg
    assert isinstance(part, Message)
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(part.get_content_charset() or "us-ascii")


def german(message: str, **values: object) -> str:
    text = Translator("de")(message, **values)
    assert text != Translator("en")(message, **values)
    return text


def test_held_notices_speak_each_readers_language(
    site: Site, mlist: IMailingList, post: Post, drain: Any, take: Take
) -> None:
    site.lists.update(mlist.list_id, preferred_language="de", respond_to_post_requests=True)
    site.users.create_address(STRANGER)
    site.users.set_address_preferences(STRANGER, {"preferred_language": "en"})
    post(make_post(sender=STRANGER, subject=""), envelope_sender=STRANGER)
    drain()
    (held,) = site.messages.held_for_list(mlist.list_id)
    assert NO_SUBJECT in held.reason  # the record stays English
    notices = {meta["notice"]: msg for msg, meta in take("virgin")}
    to_moderators = text_in_charset(notices["held"])
    assert german(NO_SUBJECT) in to_moderators
    assert "Ein Beitrag an" in to_moderators  # the German template
    to_poster = text_in_charset(notices["held-poster"])
    assert NO_SUBJECT in to_poster and german(NO_SUBJECT) not in to_poster


def test_a_rejection_is_in_the_posters_language(
    site: Site, mlist: IMailingList, post: Post, drain: Any, take: Take
) -> None:
    DatabaseBanManager.from_site(site).ban(MEMBER, mlist.list_id)
    member = site.lists.roster(mlist).get_member(MEMBER)
    assert member is not None
    site.lists.set_member_preferences(member.member_id, {"preferred_language": "de"})
    post(make_post())
    drain()
    ((msg, meta),) = take("virgin")
    assert meta["notice"] == "reject" and msg.get_payload(0).get_content_charset() == "iso-8859-1"
    text = text_in_charset(msg)
    reason = "$address is banned from posting to $posting_address"
    assert german(reason, address=MEMBER, posting_address=mlist.posting_address) in text
    posting = {"posting_address": mlist.posting_address}
    assert german("Your message to $posting_address was rejected.", **posting) in text
