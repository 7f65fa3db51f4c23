"""to-digest: the post that crosses the size threshold triggers a digest, once."""

from __future__ import annotations

from email import message_from_string

import pytest

from posthorn.handlers import to_digest
from posthorn.handlers.to_digest import ToDigest
from posthorn.interfaces.handlers import HandlerContext
from posthorn.interfaces.lists import IMailingList
from posthorn.site import Site
from tests.handlers.conftest import Queued

POST = "From: anne@example.net\nTo: dev@example.org\nSubject: news\n\n" + "Words.\n" * 100


def triggers(queued: Queued) -> int:
    return sum(1 for queue, _, data in queued if queue == "digest" and data["digest_trigger"])


def test_one_trigger_while_the_mailbox_stays_over_its_threshold(
    site: Site, ctx: HandlerContext, mlist: IMailingList, queued: Queued
) -> None:
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
    mlist = site.lists.update(mlist, digest_size_threshold=1.0)
    handler = ToDigest(ctx)
    handler.process(mlist, message_from_string(POST), {})
    handler.process(mlist, message_from_string(POST), {})
    assert triggers(queued) == 1
    monkeypatch.setattr(to_digest, "TRIGGER_REPEAT", 0.0)
    handler.process(mlist, message_from_string(POST), {})
    assert triggers(queued) == 2
