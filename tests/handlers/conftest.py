"""Handler tests: a real list on a real site, and a context that records what is queued."""

from __future__ import annotations

from email.message import Message
from typing import Any

import pytest

from posthorn.interfaces.handlers import HandlerContext
from posthorn.interfaces.lists import IMailingList
from posthorn.site import Site

Queued = list[tuple[str, Message, dict[str, Any]]]


@pytest.fixture
def queued() -> Queued:
    return []


@pytest.fixture
def ctx(site: Site, queued: Queued) -> HandlerContext:
    def enqueue(queue: str, msg: Message, msgdata: dict[str, Any]) -> str:
        queued.append((queue, msg, msgdata))
        return "entry"

    return HandlerContext(site, enqueue)


@pytest.fixture
def mlist(site: Site) -> IMailingList:
    mlist = site.lists.create("dev@example.org", owners=["owner@example.org"])
    site.lists.subscribe(mlist, "anne@example.net")
    site.lists.subscribe(mlist, "bart@example.net")
    return mlist


def prefer(site: Site, mlist: IMailingList, email: str, **values: bool) -> None:
    """Set preferences on ``email``'s membership of ``mlist``."""
    member = site.lists.roster(mlist).get_member(email)
    assert member is not None
    site.lists.set_member_preferences(member.member_id, values)
