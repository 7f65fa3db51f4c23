"""Preferences: stored per user, address and member, and which one applies."""

from __future__ import annotations

import pytest

from posthorn.errors import (
    AlreadyMemberError,
    InvalidSettingError,
    NoSuchAddressError,
    NoSuchMemberError,
)
from posthorn.interfaces.lists import IMember
from posthorn.preferences import effective_preference, effective_preferences, system_preferences
from posthorn.site import Site


@pytest.fixture
def member(site: Site) -> IMember:
    site.users.create_user("anne@example.org", "Anne")
    site.lists.create("dev@example.org")
    return site.lists.subscribe("dev@example.org", "anne@example.org")


def test_system_defaults_follow_the_site_language(site: Site) -> None:
    defaults = system_preferences(site.config)
    assert defaults["preferred_language"] == "en"
    assert defaults["hide_address"] is True and defaults["acknowledge_posts"] is False


def test_user_and_address_preferences_patch_put_and_unset(site: Site) -> None:
    user = site.users.create_user("anne@example.org")
    assert site.users.user_preferences(user.user_id) == {}
    site.users.set_user_preferences(user.user_id, {"acknowledge_posts": True})
    site.users.set_user_preferences(user.user_id, {"preferred_language": "de"})
    assert site.users.user_preferences(user.user_id) == {
        "acknowledge_posts": True,
        "preferred_language": "de",
    }
    site.users.set_user_preferences(user.user_id, {"acknowledge_posts": None})
    assert site.users.user_preferences(user.user_id) == {"preferred_language": "de"}
    site.users.set_user_preferences(user.user_id, {"hide_address": False}, replace=True)
    assert site.users.user_preferences(user.user_id) == {"hide_address": False}
    site.users.set_address_preferences("ANNE@example.org", {"receive_list_copy": False})
    assert site.users.address_preferences("anne@example.org") == {"receive_list_copy": False}
    with pytest.raises(NoSuchAddressError):
        site.users.address_preferences("nobody@example.org")


@pytest.mark.parametrize(
    "bad", [{"colour": "red"}, {"hide_address": "yes"}, {"delivery_mode": "sometimes"}]
)
def test_bad_preferences_change_nothing(site: Site, bad: dict[str, object]) -> None:
    user = site.users.create_user("anne@example.org")
    site.users.set_user_preferences(user.user_id, {"hide_address": False})
    with pytest.raises(InvalidSettingError):
        site.users.set_user_preferences(user.user_id, {"acknowledge_posts": True, **bad})
    assert site.users.user_preferences(user.user_id) == {"hide_address": False}


def test_member_preferences_keep_delivery_in_columns(site: Site, member: IMember) -> None:
    lists = site.lists
    # Nothing set: nothing reads back, so clients show what the member inherits.
    assert lists.member_preferences(member.member_id) == {}
    lists.set_member_preferences(
        member.member_id, {"delivery_mode": "mime_digests", "receive_own_postings": False}
    )
    found = lists.get_member(member.member_id)
    assert found is not None and found.delivery_mode == "mime_digests"
    assert lists.member_preferences(member.member_id) == {
        "delivery_mode": "mime_digests",
        "receive_own_postings": False,
    }
    # Set to the default value, it still reads as set.
    lists.set_member_preferences(member.member_id, {"delivery_status": "enabled"})
    assert lists.member_preferences(member.member_id)["delivery_status"] == "enabled"
    lists.set_member_preferences(member.member_id, {"acknowledge_posts": True}, replace=True)
    assert lists.member_preferences(member.member_id) == {"acknowledge_posts": True}
    found = lists.get_member(member.member_id)
    assert found is not None and found.delivery_mode == "regular"
    lists.set_member_preferences(member.member_id, {"acknowledge_posts": None})
    assert lists.member_preferences(member.member_id) == {}
    with pytest.raises(NoSuchMemberError):
        lists.member_preferences("0" * 32)


def test_the_most_specific_preference_applies(site: Site, member: IMember) -> None:
    assert effective_preferences(site, member) == system_preferences(site.config)
    assert member.user_id is not None
    site.users.set_user_preferences(
        member.user_id, {"acknowledge_posts": True, "hide_address": False}
    )
    site.users.set_address_preferences(member.email, {"acknowledge_posts": False})
    site.lists.set_member_preferences(member.member_id, {"preferred_language": "fr"})
    applied = effective_preferences(site, member)
    assert applied["hide_address"] is False  # from the user
    assert applied["acknowledge_posts"] is False  # the address overrides the user
    assert applied["preferred_language"] == "fr"  # the member overrides everything
    assert effective_preference(site, member, "receive_list_copy") is True  # the site
    with pytest.raises(InvalidSettingError):
        effective_preference(site, member, "colour")


def test_change_address_keeps_the_member_id(site: Site, member: IMember) -> None:
    site.lists.set_member_preferences(member.member_id, {"acknowledge_posts": True})
    moved = site.lists.change_address(member.member_id, "Anne@Work.example.org")
    assert (moved.member_id, moved.email) == (member.member_id, "anne@work.example.org")
    assert moved.user_id is None  # the new address belongs to no user yet
    assert site.users.get_address("anne@work.example.org") is not None
    assert site.lists.roster("dev@example.org").get_member("anne@example.org") is None
    assert site.lists.member_preferences(member.member_id)["acknowledge_posts"] is True
    site.lists.subscribe("dev@example.org", "bob@example.org")
    with pytest.raises(AlreadyMemberError):
        site.lists.change_address(member.member_id, "bob@example.org")


def test_clear_preferred_address(site: Site) -> None:
    user = site.users.create_user("anne@example.org")
    site.users.verify_address("anne@example.org")
    site.users.set_preferred_address(user.user_id, "anne@example.org")
    cleared = site.users.clear_preferred_address(user.user_id)
    assert cleared.preferred_address is None
    assert [a.email for a in cleared.addresses] == ["anne@example.org"]
