"""acknowledge: a member who asked (acknowledge_posts) gets a notice through virgin."""

from __future__ import annotations

from email import message_from_string

from posthorn.handlers.acknowledge import Acknowledge
from posthorn.interfaces.handlers import HandlerContext
from posthorn.interfaces.lists import IMailingList
from posthorn.site import Site
from tests.handlers.conftest import Queued, prefer

POST = "From: anne@example.net\nTo: dev@example.org\nSubject: news\n\nHello.\n"


def test_only_members_who_asked_are_acknowledged(
    site: Site, ctx: HandlerContext, mlist: IMailingList, queued: Queued
) -> None:
    Acknowledge(ctx).process(mlist, message_from_string(POST), {})
    assert queued == []
    prefer(site, mlist, "anne@example.net", acknowledge_posts=True)
    Acknowledge(ctx).process(mlist, message_from_string(POST), {})
    [(queue, notice, data)] = queued
    assert queue == "virgin" and data["recipients"] == ["anne@example.net"]
    assert notice["To"] == "anne@example.net" and "acknowledgement" in notice["Subject"]
    assert "news" in notice.get_payload(decode=True).decode()


def test_notices_and_non_members_are_not_acknowledged(
    ctx: HandlerContext, mlist: IMailingList, queued: Queued
) -> None:
    Acknowledge(ctx).process(mlist, message_from_string(POST), {"virgin": True})
    stranger = POST.replace("anne@example.net", "who@example.com")
    Acknowledge(ctx).process(mlist, message_from_string(stranger), {})
    assert queued == []
