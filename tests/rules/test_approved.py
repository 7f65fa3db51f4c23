"""The approved rule: the moderator password, wherever it hides, and its removal."""

from __future__ import annotations

import email
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

from posthorn.interfaces.lists import IMailingList
from posthorn.rules import one_decision
from posthorn.rules.administrivia import Administrivia
from posthorn.rules.approved import Approved
from posthorn.site import Site
from tests.incoming.fixtures import PASSWORD, make_post


def test_header_password_accepts_and_is_removed(site: Site, mlist: IMailingList) -> None:
    msg = email.message_from_bytes(make_post(extra=f"Approved: {PASSWORD}\n"))
    assert Approved(site).check(mlist, msg, {})
    assert "Approved" not in msg and PASSWORD not in msg.as_string()


def test_wrong_password_misses_but_is_still_removed(site: Site, mlist: IMailingList) -> None:
    msg = email.message_from_bytes(make_post(extra="Approve: guess\n"))
    assert not Approved(site).check(mlist, msg, {})
    assert "Approve" not in msg


def test_body_line_in_first_text_part(site: Site, mlist: IMailingList) -> None:
    msg = email.message_from_bytes(make_post(body=f"\nApproved: {PASSWORD}\n\nThe real text\n"))
    assert Approved(site).check(mlist, msg, {})
    assert PASSWORD not in msg.as_string()
    assert "The real text" in msg.as_string()


def multipart_with_password() -> Message:
    outer = MIMEMultipart("alternative")
    outer["From"] = "stranger@example.net"
    outer["Subject"] = "x"
    outer.attach(MIMEText(f"Approved: {PASSWORD}\nHello\n", "plain", "utf-8"))
    outer.attach(MIMEText(f"<p>Approved: {PASSWORD}</p><p>Hello</p>", "html", "utf-8"))
    return outer


def test_password_removed_from_every_text_part(site: Site, mlist: IMailingList) -> None:
    msg = multipart_with_password()
    assert Approved(site).check(mlist, msg, {})
    flat = email.message_from_bytes(msg.as_bytes())
    for part in flat.walk():
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            assert PASSWORD.encode() not in payload
            assert b"Hello" in payload


def test_no_password_set_never_matches(site: Site, mlist: IMailingList) -> None:
    mlist = site.lists.update(mlist.list_id, moderator_password=None)
    msg = email.message_from_bytes(make_post(extra="Approved: \n"))
    assert not Approved(site).check(mlist, msg, {})


def test_the_rules_after_it_read_the_text_without_the_password_line(
    site: Site, mlist: IMailingList
) -> None:
    # The fifth line after the password line is a command: once the line is gone,
    # administrivia finds it among the first five, in the same decision.
    body = f"Approved: {PASSWORD}\n\none\ntwo\nthree\nfour\nunsubscribe\n"
    msg = email.message_from_bytes(make_post(body=body))
    with one_decision():
        assert Approved(site).check(mlist, msg, {})
        assert Administrivia(site).check(mlist, msg, {})
