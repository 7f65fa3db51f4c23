"""dmarc: munge_from and wrap_message as the posting chain decided."""

from __future__ import annotations

from email import message_from_bytes, message_from_string, policy

from posthorn.delivery.wire import to_wire
from posthorn.handlers.dmarc import Dmarc
from posthorn.interfaces.handlers import HandlerContext
from posthorn.interfaces.lists import IMailingList
from posthorn.site import Site

POST = """\
From: Anne Example <anne@strict.example>
To: dev@example.org
Subject: hi
Message-ID: <p1@strict.example>
List-Id: Dev <dev.example.org>
MIME-Version: 1.0
Content-Type: text/plain; charset="iso-8859-1"
Content-Transfer-Encoding: quoted-printable

Gr=FC=DFe.
"""


def test_nothing_without_an_action(ctx: HandlerContext, mlist: IMailingList) -> None:
    msg = message_from_string(POST)
    Dmarc(ctx).process(mlist, msg, {})
    assert msg["From"] == "Anne Example <anne@strict.example>"


def test_munge_from_puts_the_poster_in_reply_to(ctx: HandlerContext, mlist: IMailingList) -> None:
    msg = message_from_string(POST)
    Dmarc(ctx).process(mlist, msg, {"dmarc_action": "munge_from"})
    assert msg["From"] == "Anne Example via Dev <dev@example.org>"
    assert msg["Reply-To"] == "Anne Example <anne@strict.example>"
    assert msg["Cc"] is None and len(msg.get_all("from")) == 1


def test_munge_from_uses_cc_when_reply_to_points_at_the_list(
    site: Site, ctx: HandlerContext, mlist: IMailingList
) -> None:
    mlist = site.lists.update(mlist, reply_goes_to_list="point_to_list")
    msg = message_from_string(POST)
    Dmarc(ctx).process(mlist, msg, {"dmarc_action": "munge_from"})
    assert msg["Cc"] == "Anne Example <anne@strict.example>"


def test_wrap_message_keeps_the_original_intact(
    site: Site, ctx: HandlerContext, mlist: IMailingList
) -> None:
    mlist = site.lists.update(mlist, dmarc_wrapped_message_text="Wrapped for DMARC.")
    msg = message_from_string(POST)
    Dmarc(ctx).process(mlist, msg, {"dmarc_action": "wrap_message"})
    got = message_from_bytes(to_wire(msg), policy=policy.compat32)
    assert got.get_content_type() == "multipart/mixed"
    assert got["From"] == "Anne Example via Dev <dev@example.org>"
    assert got["Reply-To"] == "Anne Example <anne@strict.example>"
    assert got["Message-ID"] == "<p1@strict.example>" and got["List-Id"]
    text, inner = got.get_payload()
    assert text.get_payload(decode=True) == b"Wrapped for DMARC."
    assert inner.get_content_type() == "message/rfc822"
    original = inner.get_payload(0)
    assert original["From"] == "Anne Example <anne@strict.example>"
    assert original.get_content_charset() == "iso-8859-1"
    assert original.get_payload(decode=True).decode("iso-8859-1").splitlines() == ["Grüße."]
