"""The default list manager: lists, their settings, and the events they fire."""

from __future__ import annotations

import dataclasses
import typing
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from posthorn.errors import (
    DuplicateListError,
    InvalidAddressError,
    InvalidListNameError,
    InvalidSettingError,
    NoSuchDomainError,
    NoSuchListError,
    ReadOnlySettingError,
    UnknownSettingError,
)
from posthorn.events import (
    ConfigurationChangeEvent,
    Event,
    ListCreatedEvent,
    ListDeletedEvent,
    SubscriptionEvent,
)
from posthorn.interfaces.lists import IMailingList
from posthorn.model import post_counts
from posthorn.model.lists import MailingList, MailingListRow
from posthorn.model.settings import READ_ONLY, ListSettings, setting_types
from posthorn.site import Site


def test_create_a_list_with_defaults(site: Site, recorded_events: list[Event]) -> None:
    mlist = site.lists.create("Dev@Example.org")
    assert isinstance(mlist, IMailingList)
    assert (mlist.list_id, mlist.fqdn_listname) == ("dev.example.org", "dev@example.org")
    assert (mlist.list_name, mlist.mail_host) == ("dev", "example.org")
    assert (mlist.display_name, mlist.subject_prefix) == ("Dev", "[Dev] ")
    assert mlist.request_address == "dev-request@example.org"
    assert mlist.bounces_address == "dev-bounces@example.org"
    assert mlist.no_reply_address == "noreply@example.org"
    assert (mlist.post_id, mlist.volume, mlist.last_post_at) == (1, 1, None)
    assert mlist.default_member_action == "defer"
    assert mlist.default_nonmember_action == "hold"
    assert mlist.subscription_policy == "confirm"
    assert mlist.max_message_size == 40 and mlist.advertised
    assert mlist.acceptable_aliases == () and mlist.digest_size_threshold == 30.0
    assert site.domains.get("example.org") is not None
    assert recorded_events == [
        ListCreatedEvent("dev.example.org", "dev@example.org", when=recorded_events[0].when)
    ]


def test_get_by_posting_address_or_list_id(site: Site) -> None:
    mlist = site.lists.create("dev@example.org")
    assert site.lists.get("dev@example.org") == mlist
    assert site.lists.get("DEV.example.org") == mlist
    assert site.lists.get("nope@example.org") is None
    assert site.lists.get("not a list@") is None
    with pytest.raises(NoSuchListError, match=r"no such list: nope@example\.org"):
        site.lists.require("nope@example.org")


def test_owners_are_subscribed_and_events_follow_the_creation(
    site: Site, recorded_events: list[Event]
) -> None:
    mlist = site.lists.create("dev@example.org", owners=["Owner@example.org", "owner@example.org"])
    assert [m.email for m in site.lists.roster(mlist).owners] == ["owner@example.org"]
    assert [type(e) for e in recorded_events] == [ListCreatedEvent, SubscriptionEvent]
    assert site.users.get_address("owner@example.org") is not None


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("../x@example.org", InvalidListNameError),
        ("a b@example.org", InvalidListNameError),
        ("dev\x07@example.org", InvalidListNameError),
        ("dev", InvalidListNameError),
        ("dev@nodot", InvalidListNameError),
    ],
)
def test_invalid_list_names(site: Site, name: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        site.lists.create(name)
    assert site.lists.lists() == [] and site.domains.domains() == []


def test_a_bad_owner_leaves_nothing_behind(site: Site) -> None:
    with pytest.raises(InvalidAddressError):
        site.lists.create("dev@example.org", owners=["good@example.org", "bad owner"])
    assert site.lists.get("dev@example.org") is None


def test_duplicate_and_missing_domain(site: Site) -> None:
    site.lists.create("dev@example.org")
    with pytest.raises(DuplicateListError, match=r"dev@example\.org exists"):
        site.lists.create("DEV@example.org")
    with pytest.raises(NoSuchDomainError):
        site.lists.create("dev@other.example", create_domain=False)
    site.domains.add("other.example")
    assert (
        site.lists.create("dev@other.example", create_domain=False).list_id == "dev.other.example"
    )


def test_remove(site: Site, recorded_events: list[Event]) -> None:
    mlist = site.lists.create("dev@example.org")
    site.lists.subscribe(mlist, "anne@example.org")
    site.lists.add_pending(
        "subscription", {"email": "x@example.org"}, timedelta(days=1), list_id=mlist.list_id
    )
    site.lists.remove("dev@example.org")
    assert site.lists.get("dev@example.org") is None
    assert site.lists.find_members(list_id="dev.example.org") == []
    assert site.lists.pendings(list_id="dev.example.org") == []
    assert isinstance(recorded_events[-1], ListDeletedEvent)
    assert recorded_events[-1].list_id == "dev.example.org"
    # Addresses belong to the user slice and stay.
    assert site.users.get_address("anne@example.org") is not None
    with pytest.raises(NoSuchListError):
        site.lists.remove("dev@example.org")


def test_iterate_filter_and_page(site: Site) -> None:
    for name in ("c@example.org", "a@example.org", "b@example.org", "a@other.example"):
        site.lists.create(name)
    site.lists.update("b@example.org", advertised=False)
    assert [m.list_id for m in site.lists.lists()] == [
        "a.example.org",
        "a.other.example",
        "b.example.org",
        "c.example.org",
    ]
    assert [m.list_id for m in site.lists.lists(mail_host="example.org", offset=1, limit=1)] == [
        "b.example.org"
    ]
    assert site.lists.count(mail_host="Example.org", advertised=True) == 2
    assert site.lists.count() == 4


def test_update_settings_fires_one_event_with_the_changes(
    site: Site, recorded_events: list[Event]
) -> None:
    mlist = site.lists.create("dev@example.org")
    recorded_events.clear()
    updated = site.lists.update(
        mlist,
        subject_prefix="[dev] ",
        default_member_action="hold",
        filter_types=["text/html"],
        digest_size_threshold=12,
        moderator_password=None,
    )
    assert updated.subject_prefix == "[dev] " and updated.default_member_action == "hold"
    assert updated.filter_types == ("text/html",) and updated.digest_size_threshold == 12.0
    assert site.lists.require(mlist) == updated
    assert mlist.subject_prefix == "[Dev] "  # the earlier view does not change under you
    assert recorded_events == [
        ConfigurationChangeEvent(
            "dev.example.org",
            {
                "subject_prefix": ("[Dev] ", "[dev] "),
                "default_member_action": ("defer", "hold"),
                "filter_types": ((), ("text/html",)),
                "digest_size_threshold": (30.0, 12.0),
            },
            when=recorded_events[0].when,
        )
    ]
    site.lists.update(mlist, subject_prefix="[dev] ")
    assert len(recorded_events) == 1  # nothing changed, nothing fired


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"default_member_action": "maybe"}, InvalidSettingError, "must be one of: hold"),
        ({"advertised": "yes"}, InvalidSettingError, "true or false"),
        ({"max_message_size": -1}, InvalidSettingError, "negative"),
        ({"max_message_size": 1.5}, InvalidSettingError, "whole number"),
        ({"max_num_recipients": True}, InvalidSettingError, "number"),
        ({"filter_types": "text/html"}, InvalidSettingError, "list of strings"),
        ({"description": 3}, InvalidSettingError, "string"),
        ({"bounce_info_stale_after": "soon"}, InvalidSettingError, "duration"),
        ({"colour": "blue"}, UnknownSettingError, "unknown list setting: colour"),
        ({"post_id": 7}, ReadOnlySettingError, "read-only list attribute: post_id"),
        ({"list_id": "x"}, ReadOnlySettingError, "read-only"),
    ],
)
def test_bad_settings_change_nothing(
    site: Site, changes: dict[str, object], error: type[Exception], message: str
) -> None:
    mlist = site.lists.create("dev@example.org")
    with pytest.raises(error, match=message):
        site.lists.update(mlist, info="changed", **changes)
    assert site.lists.require(mlist).info == ""


def test_record_post_counts(site: Site) -> None:
    mlist = site.lists.create("dev@example.org")
    assert [site.lists.record_post(mlist) for _ in range(3)] == [2, 3, 4]
    counted = site.lists.require(mlist)
    assert counted.post_id == 4 and counted.last_post_at is not None


def test_record_post_counts_a_message_once(site: Site) -> None:
    mlist = site.lists.create("dev@example.org")
    assert site.lists.post_number(mlist, "<a@example.net>") == 1
    assert site.lists.record_post(mlist, "<a@example.net>") == 2
    assert site.lists.record_post(mlist, "<b@example.net>") == 3
    # A redone entry: the same message keeps its number and is not counted again.
    assert site.lists.record_post(mlist, "a@example.net") == 2
    assert site.lists.post_number(mlist, "<a@example.net>") == 1
    assert site.lists.post_number(mlist, "<c@example.net>") == 3
    assert site.lists.require(mlist).post_id == 3


def test_old_post_counts_are_pruned_and_go_with_the_list(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(post_counts, "KEEP", 5)
    monkeypatch.setattr(post_counts, "PRUNE_EVERY", 2)
    mlist = site.lists.create("dev@example.org")
    for n in range(12):
        site.lists.record_post(mlist, f"<{n}@example.net>")
    with site.databases.session("list") as session:
        kept = session.scalar(select(func.count()).select_from(post_counts.PostCountRow))
    assert kept is not None and kept <= post_counts.KEEP + post_counts.PRUNE_EVERY - 1
    assert site.lists.post_number(mlist, "<0@example.net>") == site.lists.require(mlist).post_id
    site.lists.remove(mlist)
    with site.databases.session("list") as session:
        assert session.scalar(select(func.count()).select_from(post_counts.PostCountRow)) == 0


def test_settings_are_declared_once_and_match_the_interface() -> None:
    declared = setting_types()
    hints = typing.get_type_hints(MailingList)
    properties = {
        name
        for name, value in vars(IMailingList).items()
        if isinstance(value, property) and not name.startswith("_")
    }
    # The interface adds only read-only attributes; the settings come from IListSettings.
    assert properties == READ_ONLY
    assert READ_ONLY.isdisjoint(declared)
    assert set(declared) <= set(typing.get_type_hints(IMailingList))
    assert set(hints) - set(declared) <= READ_ONLY
    # Columns hold a subset of the settings; the JSON column holds the rest.
    columns = set(MailingListRow.__table__.columns.keys())
    assert {"advertised", "subject_prefix", "extra_settings"} <= columns
    assert all(f.default is not dataclasses.MISSING for f in dataclasses.fields(ListSettings))
