"""The to-usenet handler and the article it leads to (``posthorn.news.article_of``)."""

from __future__ import annotations

import email
from email.message import Message

from posthorn.handlers.to_usenet import ToUsenet
from posthorn.interfaces.handlers import HandlerContext
from posthorn.interfaces.lists import IMailingList
from posthorn.news import article_of
from posthorn.site import Site
from tests.handlers.conftest import Queued


def post() -> Message:
    return email.message_from_string(
        "From: ann@example.com\nFrom: again@example.com\nTo: dev@example.org\n"
        "Subject: [Dev] hello\nMessage-ID: <p1@example.com>\nPath: a!b\n"
        "Approved: secret\n\nBody.\n"
    )


def test_only_gated_posts_not_from_news_are_queued(
    site: Site, mlist: IMailingList, ctx: HandlerContext, queued: Queued
) -> None:
    handler = ToUsenet(ctx)
    handler.process(mlist, post(), {})
    assert queued == []
    gated = site.lists.update(mlist, gateway_to_news=True, linked_newsgroup="local.test")
    handler.process(gated, post(), {"fromusenet": True})
    assert queued == []
    handler.process(gated, post(), {})
    assert [(queue, data) for queue, _, data in queued] == [("nntp", {"list_id": gated.list_id})]


def test_the_article_follows_the_news_settings(site: Site, mlist: IMailingList) -> None:
    gated = site.lists.update(mlist, linked_newsgroup="local.test", subject_prefix="[Dev] ",
                              newsgroup_moderation="moderated")  # fmt: skip
    article = email.message_from_bytes(article_of(gated, post()))
    assert article["Newsgroups"] == "local.test"
    assert article["Approved"] == gated.posting_address  # not the poster's "secret"
    assert article["Subject"] == "[Dev] hello"  # nntp_prefix_subject_too is on
    assert article.get_all("From") == ["ann@example.com"]
    assert article["Path"] is None and article["X-Original-To"] == "dev@example.org"
    plain = site.lists.update(gated, newsgroup_moderation="none", nntp_prefix_subject_too=False)
    article = email.message_from_bytes(article_of(plain, post()))
    assert article["Approved"] is None and article["Subject"] == "hello"
