"""avoid-duplicates: members in To/Cc with receive_list_copy off, posters with
receive_own_postings off, are left out of delivery; the outgoing runner honours it."""

from __future__ import annotations

from email import message_from_string
from typing import Any

from posthorn.delivery.recipients import recipient_chunks
from posthorn.handlers.avoid_duplicates import AvoidDuplicates
from posthorn.interfaces.handlers import HandlerContext
from posthorn.interfaces.lists import IMailingList
from posthorn.site import Site
from tests.handlers.conftest import prefer

POST = """\
From: Anne <anne@example.net>
To: dev@example.org, Bart <BART@example.net>
Cc: stranger@example.com
Subject: hi

Hello.
"""


def run(ctx: HandlerContext, mlist: IMailingList, **msgdata: Any) -> dict[str, Any]:
    AvoidDuplicates(ctx).process(mlist, message_from_string(POST), msgdata)
    return msgdata


def test_by_default_everyone_gets_the_list_copy(ctx: HandlerContext, mlist: IMailingList) -> None:
    assert "skip_recipients" not in run(ctx, mlist)


def test_a_member_in_to_who_wants_no_list_copy_is_skipped(
    site: Site, ctx: HandlerContext, mlist: IMailingList
) -> None:
    prefer(site, mlist, "bart@example.net", receive_list_copy=False)
    data = run(ctx, mlist)
    assert data["skip_recipients"] == ["bart@example.net"]
    chunks = recipient_chunks(site.lists, mlist, data, 100, set(data["skip_recipients"]))
    assert list(chunks) == [["anne@example.net"]]


def test_a_poster_who_does_not_want_own_posts_is_skipped(
    site: Site, ctx: HandlerContext, mlist: IMailingList
) -> None:
    prefer(site, mlist, "anne@example.net", receive_own_postings=False)
    assert run(ctx, mlist)["skip_recipients"] == ["anne@example.net"]


def test_explicit_recipients_are_left_alone(
    site: Site, ctx: HandlerContext, mlist: IMailingList
) -> None:
    prefer(site, mlist, "bart@example.net", receive_list_copy=False)
    assert "skip_recipients" not in run(ctx, mlist, recipients=["bart@example.net"])
