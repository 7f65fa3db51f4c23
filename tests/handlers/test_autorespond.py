"""Autoresponses in a real master, over LMTP, with an SMTP sink for the MTA.

A poster is answered once per grace period however often they post; a bulk or
auto-submitted post, or one from another list, is delivered but never answered;
``respond_and_discard`` on the owner address answers and drops; ``-request`` mail is
answered and its commands still carried out.  The last post, from a fresh sender, is
the barrier: once its answer is out, every earlier message has been through incoming.
"""

from __future__ import annotations

import email
import smtplib
import subprocess
from datetime import timedelta
from email.message import Message
from pathlib import Path

import pytest
from sqlalchemy import select

from posthorn.handlers.autorespond import AutoRespond
from posthorn.interfaces.handlers import DiscardMessage, HandlerContext
from posthorn.model.autoresponses import AutoResponseRow
from posthorn.model.base import utc_now
from posthorn.site import Site
from tests.handlers.conftest import Queued
from tests.sites import master_with_sink
from tests.smtpsink import SMTPSink

LIST = "dev@example.org"
OWNER = "owner@example.org"
MEMBERS = ["alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com"]
READER = "reader@example.com"
RUNNING = ("lmtp", "incoming", "pipeline", "virgin", "outgoing", "retry", "command")
ANSWER = "Auto-response for your message"


def arrange(site: Site) -> None:
    site.lists.create(LIST, owners=[OWNER])
    for address in [*MEMBERS, READER]:
        site.lists.subscribe(LIST, address)
    site.lists.update(
        LIST,
        autorespond_postings="respond_and_continue",
        autoresponse_postings_text="Thanks for writing to $display_name.",
        autorespond_owner="respond_and_discard",
        autoresponse_owner_text="The owners read no mail.",
        autorespond_requests="respond_and_continue",
        autoresponse_request_text="Commands are answered slowly.",
    )


def message(sender: str, to: str, n: int, extra: str = "", body: str = "Hello.") -> bytes:
    return (f"From: {sender}\nTo: {to}\nSubject: Message {n}\n"
            f"Message-ID: <m{n}@example.com>\n{extra}\n{body}\n").encode()  # fmt: skip


def answers(sink: SMTPSink, address: str) -> list[Message]:
    return [m for rcpts, m in sink.messages() if address in rcpts and ANSWER in str(m["Subject"])]


@pytest.mark.slow
def test_autoresponses_once_per_grace_period_and_never_to_robots(tmp_path: Path) -> None:
    alice, bob, carol, dave = MEMBERS
    with master_with_sink(tmp_path, running=RUNNING, arrange=arrange,
                          output=subprocess.DEVNULL) as (_, lmtp_port, sink):  # fmt: skip
        with smtplib.LMTP("127.0.0.1", lmtp_port, timeout=10) as lmtp:
            lmtp.sendmail(alice, [LIST], message(alice, LIST, 1))
            lmtp.sendmail(alice, [LIST], message(alice, LIST, 2))
            lmtp.sendmail(bob, [LIST], message(bob, LIST, 3, "Precedence: bulk\n"))
            lmtp.sendmail(carol, [LIST], message(carol, LIST, 4, "Auto-Submitted: auto-replied\n"))
            lmtp.sendmail(carol, [LIST], message(carol, LIST, 5, "List-Id: <other.example.net>\n"))
            lmtp.sendmail(bob, ["dev-owner@example.org"], message(bob, "dev-owner", 6))
            lmtp.sendmail(
                carol, ["dev-request@example.org"], message(carol, "dev-request", 7, body="help")
            )
            lmtp.sendmail(dave, [LIST], message(dave, LIST, 8))
        sink.wait(dave, ANSWER)
        for n in (1, 2, 3, 4, 5, 8):
            sink.wait(READER, f"Message {n}")  # every post delivered, answered or not
        sink.wait(carol, "command")  # the -request commands were carried out
        (to_alice,) = answers(sink, alice)
        assert to_alice["Auto-Submitted"] == "auto-replied"
        assert to_alice["In-Reply-To"] == "<m1@example.com>"
        body = to_alice.get_payload(decode=True)
        assert isinstance(body, bytes) and b"Thanks for writing to Dev." in body
        (to_bob,) = answers(sink, bob)  # the owner address, not the bulk post
        assert b"The owners read no mail." in to_bob.get_payload(decode=True)  # type: ignore[operator]
        (to_carol,) = answers(sink, carol)  # -request only, not the robot posts
        assert b"Commands are answered slowly." in to_carol.get_payload(decode=True)  # type: ignore[operator]
        assert sink.find(OWNER, "Message 6") is None  # respond_and_discard dropped it


def _post(sender: str, n: int, extra: str = "") -> Message:
    return email.message_from_bytes(message(sender, LIST, n, extra))


def test_grace_period_in_days(site: Site, ctx: HandlerContext, queued: Queued) -> None:
    mlist = site.lists.create(LIST, owners=[OWNER])
    mlist = site.lists.update(mlist, autorespond_postings="respond_and_continue")
    handler = AutoRespond(ctx)
    data = {"to_list": True, "envelope_sender": "anne@example.net"}
    for n in (1, 2):
        handler.process(mlist, _post("anne@example.net", n), dict(data))
    assert len(queued) == 1
    # The last answer 90 days ago: the 90-day grace period is over.
    with site.databases.session_factory("list")() as session:
        row = session.scalars(select(AutoResponseRow)).one()
        row.date_sent = utc_now().date() - timedelta(days=90)
    handler.process(mlist, _post("anne@example.net", 3), dict(data))
    assert len(queued) == 2
    # Under a day: every message is answered.
    mlist = site.lists.update(mlist, autoresponse_grace_period="0d")
    handler.process(mlist, _post("anne@example.net", 4), dict(data))
    assert len(queued) == 3
    # Robots never, and respond_and_discard drops even what it does not answer.
    mlist = site.lists.update(mlist, autorespond_postings="respond_and_discard")
    for n, extra, sender in ((5, "Precedence: list\n", "anne@example.net"),
                             (6, "", "dev-bounces+x=y@example.org"),
                             (7, "", "MAILER-DAEMON@example.net"),
                             (8, "X-Posthorn-Notice: held\n", "anne@example.net")):  # fmt: skip
        with pytest.raises(DiscardMessage):
            handler.process(mlist, _post(sender, n, extra), dict(data, envelope_sender=sender))
    assert len(queued) == 3
