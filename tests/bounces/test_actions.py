"""Scoring, disabling, warning and removing, with a clock the test moves by days."""

from __future__ import annotations

import email
from datetime import UTC, datetime, timedelta
from email.message import Message
from typing import Any

import pytest

from posthorn.bounces.actions import BounceActions
from posthorn.interfaces.lists import IMailingList
from posthorn.site import Site
from tests.bounces import samples

LIST = "dev@example.org"
OWNER = "owner@example.org"
MEMBER = "alice@example.com"
DAY = timedelta(days=1)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def mlist(site: Site) -> IMailingList:
    site.lists.create(LIST, owners=[OWNER])
    site.lists.subscribe(LIST, MEMBER)
    return site.lists.update(
        LIST,
        bounce_score_threshold=3,
        bounce_you_are_disabled_warnings=2,
        bounce_you_are_disabled_warnings_interval="1d",
    )


@pytest.fixture
def sent() -> list[tuple[Message, dict[str, Any]]]:
    return []


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def actions(site: Site, sent: list[tuple[Message, dict[str, Any]]], clock: Clock) -> BounceActions:
    return BounceActions(site, lambda msg, data: sent.append((msg, data)), clock=clock)


def notices(sent: list[tuple[Message, dict[str, Any]]]) -> list[tuple[list[str], str]]:
    return [(data["recipients"], str(msg["subject"])) for msg, data in sent]


def status(site: Site) -> str | None:
    member = site.lists.roster(LIST).get_member(MEMBER)
    return None if member is None else member.delivery_status


def test_disable_warn_remove(
    site: Site, mlist: IMailingList, actions: BounceActions, clock: Clock, sent: list[Any]
) -> None:
    assert actions.register(mlist, MEMBER).score == 1  # type: ignore[union-attr]
    clock.now += timedelta(hours=3)
    assert actions.register(mlist, MEMBER).score == 1  # type: ignore[union-attr]
    for _ in range(2):
        clock.now += DAY
        actions.register(mlist, MEMBER)
    assert status(site) == "by_bounces"
    assert notices(sent) == [
        ([OWNER], "alice@example.com's subscription to Dev disabled (bounces)"),
        ([MEMBER], "Your subscription to Dev has been disabled"),
    ]
    actions.sweep(mlist)
    assert len(sent) == 2  # the next warning is not due yet
    clock.now += DAY
    actions.sweep(mlist)
    assert notices(sent)[2] == ([MEMBER], "Your subscription to Dev has been disabled")
    assert "warning 2 of 2" in str(sent[2][0].get_payload(decode=True))
    clock.now += DAY
    actions.sweep(mlist)
    assert status(site) is None
    assert notices(sent)[3] == ([OWNER], "alice@example.com unsubscribed from Dev (bounces)")
    assert actions.records.for_list(mlist.list_id) == []


def test_a_disabled_member_is_not_scored_again(
    site: Site, mlist: IMailingList, actions: BounceActions
) -> None:
    member = site.lists.roster(LIST).get_member(MEMBER)
    assert member is not None
    site.lists.update_member(member.member_id, delivery_status="by_user")
    assert actions.register(mlist, MEMBER) is None
    assert actions.register(mlist, "stranger@example.com") is None


def test_re_enabled_member_starts_afresh(
    site: Site, mlist: IMailingList, actions: BounceActions, clock: Clock
) -> None:
    for _ in range(3):
        actions.register(mlist, MEMBER)
        clock.now += DAY
    member = site.lists.roster(LIST).get_member(MEMBER)
    assert member is not None and member.delivery_status == "by_bounces"
    site.lists.update_member(member.member_id, delivery_status="enabled")
    actions.sweep(mlist)
    assert actions.records.for_list(mlist.list_id) == []


@pytest.mark.parametrize(
    ("target", "expected"),
    [("administrators", [OWNER]), ("site_owner", ["postmaster@localhost"]), ("discard", None)],
)
def test_unrecognized_bounces(
    site: Site,
    mlist: IMailingList,
    actions: BounceActions,
    sent: list[Any],
    target: str,
    expected: list[str] | None,
) -> None:
    mlist = site.lists.update(LIST, forward_unrecognized_bounces_to=target)
    actions.unrecognized(mlist, email.message_from_bytes(samples.unrecognizable()))
    if expected is None:
        assert sent == []
    else:
        ((msg, data),) = sent
        assert data["recipients"] == expected
        assert msg.get_content_type() == "multipart/mixed"
