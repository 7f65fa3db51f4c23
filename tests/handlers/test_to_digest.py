"""to-digest: the post that crosses the size threshold triggers a digest, once.

A list nobody reads in digests is not triggered: the handler numbers and drops the
issue itself, and the posts after it wait for a member who may switch to digests.
"""

from __future__ import annotations

from email import message_from_string

import pytest

from posthorn.digests import appending
from posthorn.handlers import to_digest
from posthorn.handlers.to_digest import ToDigest
from posthorn.interfaces.handlers import HandlerContext
from posthorn.interfaces.lists import IMailingList
from posthorn.site import Site
from tests.handlers.conftest import Queued

POST = "From: anne@example.net\nTo: dev@example.org\nSubject: news\n\n" + "Words.\n" * 100


def triggers(queued: Queued) -> int:
    return sum(1 for queue, _, data in queued if queue == "digest" and data["digest_trigger"])


def reader(site: Site, mlist: IMailingList) -> None:
    """A member who receives the list in digests."""
    site.lists.subscribe(mlist, "dora@example.net", delivery_mode="mime_digests")


def test_one_trigger_while_the_mailbox_stays_over_its_threshold(
    site: Site, ctx: HandlerContext, mlist: IMailingList, queued: Queued
) -> None:
    reader(site, mlist)
    mlist = site.lists.update(mlist, digest_size_threshold=1.0)
    handler = ToDigest(ctx)
    for _ in range(5):
        handler.process(mlist, message_from_string(POST), {})
    assert triggers(queued) == 1


def test_a_mailbox_still_over_its_threshold_is_triggered_again_later(
    site: Site,
    ctx: HandlerContext,
    mlist: IMailingList,
    queued: Queued,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reader(site, mlist)
    mlist = site.lists.update(mlist, digest_size_threshold=1.0)
    handler = ToDigest(ctx)
    handler.process(mlist, message_from_string(POST), {})
    handler.process(mlist, message_from_string(POST), {})
    assert triggers(queued) == 1
    monkeypatch.setattr(to_digest, "TRIGGER_REPEAT", 0.0)
    handler.process(mlist, message_from_string(POST), {})
    assert triggers(queued) == 2


def _mailbox_posts(site: Site, mlist: IMailingList) -> int:
    path = to_digest.digest_mailbox(site.config.path("data_dir"), mlist.list_id)
    return path.read_bytes().count(b"\nSubject: ")


def test_an_issue_nobody_receives_is_dropped_without_a_trigger(
    site: Site, ctx: HandlerContext, mlist: IMailingList, queued: Queued
) -> None:
    mlist = site.lists.update(mlist, digest_size_threshold=1.0)  # two posts fill an issue
    handler = ToDigest(ctx)
    for n in range(5):
        handler.process(mlist, message_from_string(f"Message-ID: <{n}@example.net>\n" + POST), {})
    assert queued == []
    # Two issues filled, numbered as sent and dropped; the fifth post waits for the next.
    issue = site.lists.require(mlist)
    assert (issue.volume, issue.next_digest_number) == (1, 3)
    assert _mailbox_posts(site, mlist) == 1
    # Whoever switches to digests now receives the posts since the last issue.
    reader(site, mlist)
    handler.process(mlist, message_from_string("Message-ID: <5@example.net>\n" + POST), {})
    assert triggers(queued) == 1 and _mailbox_posts(site, mlist) == 2


def test_a_post_handled_again_is_in_the_digest_once(
    site: Site, ctx: HandlerContext, mlist: IMailingList
) -> None:
    handler = ToDigest(ctx)
    for n in (1, 1, 2, 1):
        handler.process(mlist, message_from_string(f"Message-ID: <{n}@example.net>\n" + POST), {})
    assert _mailbox_posts(site, mlist) == 2


def test_posts_without_a_message_id_are_never_taken_for_each_other(
    site: Site, ctx: HandlerContext, mlist: IMailingList
) -> None:
    handler = ToDigest(ctx)
    for _ in range(3):
        handler.process(mlist, message_from_string(POST), {})
    assert _mailbox_posts(site, mlist) == 3


def test_the_names_of_posts_are_trimmed_to_the_recent_ones(
    site: Site, ctx: HandlerContext, mlist: IMailingList, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(appending, "SEEN_KEEP", 3)
    handler = ToDigest(ctx)
    for n in range(10):
        handler.process(mlist, message_from_string(f"Message-ID: <{n}@example.net>\n" + POST), {})
    path = to_digest.digest_mailbox(site.config.path("data_dir"), mlist.list_id)
    assert len(path.with_suffix(".seen").read_text().split()) <= 6
    handler.process(mlist, message_from_string("Message-ID: <9@example.net>\n" + POST), {})
    assert _mailbox_posts(site, mlist) == 10
