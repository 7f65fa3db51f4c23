"""Memberships and rosters: subscribe, unsubscribe, find, update, and the events."""

from __future__ import annotations

import pytest

from posthorn.errors import (
    AlreadyMemberError,
    InvalidAddressError,
    InvalidSettingError,
    NoSuchListError,
    NoSuchMemberError,
    NotAMemberError,
)
from posthorn.events import Event, SubscriptionEvent, UnsubscriptionEvent
from posthorn.interfaces.lists import IMailingList, IMember
from posthorn.site import Site


@pytest.fixture
def mlist(site: Site) -> IMailingList:
    return site.lists.create("dev@example.org")


def test_subscribe_registers_the_address_and_fires(
    site: Site, mlist: IMailingList, recorded_events: list[Event]
) -> None:
    user = site.users.create_user("anne@example.org", "Anne")
    member = site.lists.subscribe(mlist, "Anne@Example.org")
    assert isinstance(member, IMember)
    assert (member.list_id, member.email, member.role) == (
        "dev.example.org",
        "anne@example.org",
        "member",
    )
    assert (member.delivery_mode, member.delivery_status) == ("regular", "enabled")
    assert member.moderation_action is None and member.user_id == user.user_id
    assert member.display_name == "Anne"
    assert recorded_events == [
        SubscriptionEvent(
            "dev.example.org",
            "anne@example.org",
            "member",
            member.member_id,
            when=recorded_events[0].when,
        )
    ]
    site.lists.subscribe(mlist, "new@example.org", display_name="New Person")
    assert site.users.get_address("new@example.org") is not None


def test_one_address_one_role_once(site: Site, mlist: IMailingList) -> None:
    site.lists.subscribe(mlist, "anne@example.org")
    with pytest.raises(AlreadyMemberError, match=r"already a member of dev\.example\.org"):
        site.lists.subscribe(mlist, "ANNE@example.org")
    # Another role is another membership.
    site.lists.subscribe(mlist, "anne@example.org", role="moderator")
    assert len(site.lists.find_members(email="anne@example.org")) == 2


def test_bad_subscriptions(site: Site, mlist: IMailingList) -> None:
    with pytest.raises(NoSuchListError):
        site.lists.subscribe("nope@example.org", "anne@example.org")
    with pytest.raises(InvalidAddressError):
        site.lists.subscribe(mlist, "anne at example.org")
    with pytest.raises(InvalidSettingError, match="role must be one of"):
        site.lists.subscribe(mlist, "anne@example.org", role="boss")  # type: ignore[arg-type]
    with pytest.raises(InvalidSettingError, match="delivery_mode"):
        site.lists.subscribe(mlist, "anne@example.org", delivery_mode="weekly")  # type: ignore[arg-type]
    assert site.lists.find_members() == []


def test_unsubscribe(site: Site, mlist: IMailingList, recorded_events: list[Event]) -> None:
    member = site.lists.subscribe(mlist, "anne@example.org")
    site.lists.unsubscribe("dev.example.org", "Anne@example.org")
    assert site.lists.roster(mlist).members == []
    assert isinstance(recorded_events[-1], UnsubscriptionEvent)
    assert recorded_events[-1].member_id == member.member_id
    with pytest.raises(NotAMemberError, match=r"anne@example\.org is not a member"):
        site.lists.unsubscribe(mlist, "anne@example.org")


def test_subscribing_a_nonmember_replaces_the_nonmember_entry(
    site: Site, mlist: IMailingList
) -> None:
    site.lists.subscribe(mlist, "anne@example.org", role="nonmember")
    site.lists.subscribe(mlist, "anne@example.org")
    roster = site.lists.roster(mlist)
    assert roster.nonmembers == [] and [m.email for m in roster.members] == ["anne@example.org"]


def test_rosters_by_role_and_delivery(site: Site, mlist: IMailingList) -> None:
    site.lists.subscribe(mlist, "a@example.org")
    site.lists.subscribe(mlist, "b@example.org", delivery_mode="plaintext_digests")
    site.lists.subscribe(mlist, "c@example.org", delivery_mode="summary_digests")
    site.lists.subscribe(mlist, "o@example.org", role="owner")
    site.lists.subscribe(mlist, "m@example.org", role="moderator")
    site.lists.subscribe(mlist, "n@example.org", role="nonmember")
    other = site.lists.create("other@example.org")
    site.lists.subscribe(other, "z@example.org")
    roster = site.lists.roster(mlist)
    emails = lambda members: [m.email for m in members]  # noqa: E731
    assert emails(roster.members) == ["a@example.org", "b@example.org", "c@example.org"]
    assert emails(roster.regular_members) == ["a@example.org"]
    assert emails(roster.digest_members) == ["b@example.org", "c@example.org"]
    assert emails(roster.owners) == ["o@example.org"]
    assert emails(roster.moderators) == ["m@example.org"]
    assert emails(roster.administrators) == ["m@example.org", "o@example.org"]
    assert emails(roster.nonmembers) == ["n@example.org"]
    assert roster.get_member("O@example.org", "owner") is not None
    assert roster.get_member("o@example.org") is None
    assert roster.list_id == "dev.example.org"


def test_find_get_and_update_members(site: Site, mlist: IMailingList) -> None:
    member = site.lists.subscribe(mlist, "anne@example.org")
    site.lists.subscribe(mlist, "bart@example.org", role="owner")
    assert site.lists.get_member(member.member_id) == member
    assert site.lists.get_member("0" * 32) is None
    assert [m.email for m in site.lists.find_members(list_id="dev.example.org", role="owner")] == [
        "bart@example.org"
    ]
    assert len(site.lists.find_members(list_id="dev.example.org", offset=1, limit=5)) == 1
    changed = site.lists.update_member(
        member.member_id, moderation_action="hold", delivery_status="by_user", display_name="A"
    )
    assert (changed.moderation_action, changed.delivery_status, changed.display_name) == (
        "hold",
        "by_user",
        "A",
    )
    cleared = site.lists.update_member(member.member_id, moderation_action="default")
    assert cleared.moderation_action is None and cleared.delivery_status == "by_user"
    with pytest.raises(NoSuchMemberError):
        site.lists.update_member("0" * 32, delivery_mode="mime_digests")
    with pytest.raises(InvalidSettingError):
        site.lists.update_member(member.member_id, moderation_action="ignore")  # type: ignore[arg-type]


def test_one_address_on_one_list_every_role(site: Site, mlist: IMailingList) -> None:
    site.lists.subscribe(mlist, "anne@example.org", role="owner")
    site.lists.subscribe(mlist, "anne@example.org")
    site.lists.subscribe(mlist, "bart@example.org")
    found = site.lists.find_members(list_id="dev.example.org", email="ANNE@example.org")
    assert [m.role for m in found] == ["member", "owner"]
    assert {m.email for m in found} == {"anne@example.org"}
    [member] = site.lists.find_members(
        list_id="dev.example.org", email="anne@example.org", role="member"
    )
    assert member == found[0]
    assert site.lists.find_members(list_id="dev.example.org", email="x@example.org") == []
