"""The default user manager: users, addresses, passwords, verification, and events."""

from __future__ import annotations

import pytest

from posthorn.errors import (
    AddressInUseError,
    DuplicateAddressError,
    InvalidAddressError,
    NoSuchAddressError,
    NoSuchUserError,
    UnverifiedAddressError,
)
from posthorn.events import AddressVerifiedEvent, Event, PasswordChangeEvent
from posthorn.interfaces.users import IAddress, IUser
from posthorn.site import Site


def test_create_a_user_with_an_address(site: Site) -> None:
    user = site.users.create_user("Anne@Example.org", "Anne Person")
    assert isinstance(user, IUser)
    assert len(user.user_id) == 32 and int(user.user_id, 16) >= 0
    assert user.display_name == "Anne Person"
    assert user.password is None and not user.is_server_owner
    assert user.created_on.tzinfo is not None
    [address] = user.addresses
    assert isinstance(address, IAddress)
    assert (address.email, address.original_email) == ("anne@example.org", "Anne@Example.org")
    assert address.user_id == user.user_id and not address.verified
    assert site.users.get_user(user.user_id) == user
    assert site.users.get_user_by_address("ANNE@example.org") == user


def test_an_address_belongs_to_one_user(site: Site) -> None:
    site.users.create_user("anne@example.org")
    with pytest.raises(AddressInUseError):
        site.users.create_user("anne@example.org")
    with pytest.raises(DuplicateAddressError):
        site.users.create_address("ANNE@example.org")
    other = site.users.create_user()
    with pytest.raises(AddressInUseError):
        site.users.link_address(other.user_id, "anne@example.org")


def test_an_unowned_address_can_be_claimed_and_released(site: Site) -> None:
    site.users.create_address("bart@example.org", "Bart")
    user = site.users.create_user("bart@example.org")
    assert [a.email for a in user.addresses] == ["bart@example.org"]
    site.users.link_address(user.user_id, "bart2@example.org")
    assert [a.email for a in site.users.addresses_of(user.user_id)] == [
        "bart2@example.org",
        "bart@example.org",
    ]
    released = site.users.unlink_address("bart@example.org")
    assert released.user_id is None
    assert site.users.get_user_by_address("bart@example.org") is None


def test_get_or_create_address_is_idempotent(site: Site) -> None:
    first = site.users.get_or_create_address("cris@example.org", "Cris")
    again = site.users.get_or_create_address("Cris@Example.org")
    assert first == again
    assert site.users.address_count() == 1


def test_invalid_addresses_are_refused(site: Site) -> None:
    for bad in ("cris", "a b@example.org", "../x@example.org", "x\x00@example.org"):
        with pytest.raises(InvalidAddressError):
            site.users.get_or_create_address(bad)
    assert site.users.address_count() == 0


def test_passwords_are_hashed_and_checked(site: Site, recorded_events: list[Event]) -> None:
    user = site.users.create_user("dave@example.org", password="first secret")
    stored = site.users.get_user(user.user_id)
    assert stored is not None and stored.password is not None
    assert stored.password.startswith("$argon2") and "first secret" not in stored.password
    assert site.users.check_password(user.user_id, "first secret")
    site.users.set_password(user.user_id, "second secret")
    assert not site.users.check_password(user.user_id, "first secret")
    assert site.users.check_password(user.user_id, "second secret")
    assert recorded_events == [PasswordChangeEvent(user.user_id, when=recorded_events[0].when)]
    assert not site.users.check_password(site.users.create_user().user_id, "anything")


def test_verification_and_the_preferred_address(site: Site, recorded_events: list[Event]) -> None:
    user = site.users.create_user("erin@example.org")
    with pytest.raises(UnverifiedAddressError):
        site.users.set_preferred_address(user.user_id, "erin@example.org")
    verified = site.users.verify_address("Erin@example.org")
    assert verified.verified and verified.verified_on is not None
    assert [type(e) for e in recorded_events] == [AddressVerifiedEvent]
    assert isinstance(recorded_events[0], AddressVerifiedEvent)
    assert recorded_events[0].email == "erin@example.org"
    updated = site.users.set_preferred_address(user.user_id, "erin@example.org")
    assert updated.preferred_address == verified
    assert not site.users.unverify_address("erin@example.org").verified
    site.users.create_address("frank@example.org")
    site.users.verify_address("frank@example.org")
    with pytest.raises(AddressInUseError):
        site.users.set_preferred_address(user.user_id, "frank@example.org")


def test_deleting_a_user_deletes_its_addresses(site: Site) -> None:
    user = site.users.create_user("gina@example.org")
    site.users.link_address(user.user_id, "gina2@example.org")
    site.users.create_address("other@example.org")
    site.users.delete_user(user.user_id)
    assert site.users.get_user(user.user_id) is None
    assert [a.email for a in site.users.addresses()] == ["other@example.org"]
    with pytest.raises(NoSuchUserError):
        site.users.delete_user(user.user_id)
    with pytest.raises(NoSuchAddressError):
        site.users.delete_address("gina@example.org")


def test_users_and_addresses_page(site: Site) -> None:
    made = [site.users.create_user(f"user{n}@example.org") for n in range(5)]
    assert site.users.user_count() == 5
    assert [u.user_id for u in site.users.users(offset=1, limit=2)] == [
        made[1].user_id,
        made[2].user_id,
    ]
    assert [a.email for a in site.users.addresses(offset=3)] == [
        "user3@example.org",
        "user4@example.org",
    ]
    updated = site.users.update_user(made[0].user_id, display_name="Zed", is_server_owner=True)
    assert (updated.display_name, updated.is_server_owner) == ("Zed", True)


def test_snapshots_outlive_their_session(site: Site) -> None:
    user = site.users.create_user("hal@example.org")
    site.users.update_user(user.user_id, display_name="Changed later")
    # The object handed out earlier is a value: it neither reloads nor fails.
    assert user.display_name is None
    assert user.addresses[0].email == "hal@example.org"
