"""The seed note's claim: swap the user manager by one line of configuration, change
nothing else, and lists, subscriptions and rosters still work.

The swapped-in manager (``memory_users.py``) keeps users in a dict.  The list manager
reaches it only through IUserManager, so the user tables in the database stay empty.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from posthorn.config import Config
from posthorn.errors import AlreadyMemberError
from posthorn.model.users import AddressRow, UserRow
from posthorn.site import Site
from tests.model.memory_users import MemoryUserManager

DOTTED = "tests.model.memory_users:MemoryUserManager"


@pytest.fixture
def config(make_config: Callable[..., Config], db_url: str) -> Config:
    return make_config(database={"url": db_url}, components={"user_manager": DOTTED})


@pytest.fixture
def memory(site: Site) -> MemoryUserManager:
    users = site.users
    assert isinstance(users, MemoryUserManager)
    return users


def test_lists_subscriptions_and_rosters_work_through_a_swapped_user_manager(
    site: Site, memory: MemoryUserManager
) -> None:
    user = memory.create_user("anne@example.org", "Anne Person")
    mlist = site.lists.create("dev@example.org", owners=["owner@example.org"])
    member = site.lists.subscribe(mlist, "Anne@Example.org")
    site.lists.subscribe(
        mlist, "bart@example.org", display_name="Bart", delivery_mode="mime_digests"
    )
    site.lists.subscribe(mlist, "cris@example.org", role="moderator")

    roster = site.lists.roster(mlist)
    assert [m.email for m in roster.members] == ["anne@example.org", "bart@example.org"]
    assert [m.email for m in roster.regular_members] == ["anne@example.org"]
    assert [m.email for m in roster.digest_members] == ["bart@example.org"]
    assert [m.email for m in roster.owners] == ["owner@example.org"]
    assert [m.email for m in roster.administrators] == ["cris@example.org", "owner@example.org"]
    assert roster.get_member("ANNE@example.org") == member
    # The membership knows the user the swapped-in manager holds for the address.
    assert member.user_id == user.user_id
    assert member.display_name == "Anne Person"
    assert site.lists.find_members(email="anne@example.org") == [member]
    with pytest.raises(AlreadyMemberError):
        site.lists.subscribe(mlist, "anne@example.org")

    # Every address went through the swapped-in manager...
    assert {a.email for a in memory.addresses()} == {
        "anne@example.org", "bart@example.org", "cris@example.org", "owner@example.org",
    }  # fmt: skip
    assert "get_or_create_address bart@example.org" in memory.calls
    # ...and none reached the default manager's tables.
    with site.databases.session("user") as session:
        for table in (UserRow, AddressRow):
            assert session.scalar(select(func.count()).select_from(table)) == 0


def test_unsubscribe_and_remove_through_a_swapped_user_manager(
    site: Site, memory: MemoryUserManager
) -> None:
    mlist = site.lists.create("dev@example.org")
    site.lists.subscribe(mlist, "anne@example.org")
    site.lists.unsubscribe(mlist, "anne@example.org")
    assert site.lists.roster(mlist).members == []
    site.lists.remove(mlist)
    assert site.lists.get("dev@example.org") is None
    # The address outlives the membership: it belongs to the user slice.
    assert memory.get_address("anne@example.org") is not None
