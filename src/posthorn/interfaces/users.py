"""The user slice as the rest of Posthorn sees it: users, their addresses, the manager.

A site that keeps its users in another system implements IUserManager (and returns
objects shaped like IUser and IAddress) and names the class in
``[components] user_manager``; nothing else in Posthorn changes.  Lists and members
refer to addresses by their lowercased email string and to users by ``user_id``, never
by a database key, so this slice can live anywhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

__all__ = ["IAddress", "IUser", "IUserManager"]


@runtime_checkable
class IAddress(Protocol):
    """One email address, registered once per site whoever owns it."""

    @property
    def email(self) -> str:
        """The address lowercased: the key every other component uses."""

    @property
    def original_email(self) -> str:
        """The address as first given, for display."""

    @property
    def display_name(self) -> str | None: ...

    @property
    def registered_on(self) -> datetime: ...

    @property
    def verified_on(self) -> datetime | None:
        """When the owner proved they receive mail there; None while unverified."""

    @property
    def verified(self) -> bool: ...

    @property
    def user_id(self) -> str | None:
        """The owning user's id, or None for an address no user has claimed."""


@runtime_checkable
class IUser(Protocol):
    """A person: one password and display name over any number of addresses."""

    @property
    def user_id(self) -> str:
        """32 lowercase hex digits (a UUID), stable for the user's life."""

    @property
    def display_name(self) -> str | None: ...

    @property
    def password(self) -> str | None:
        """The password hash (argon2), never the password; None if none is set."""

    @property
    def created_on(self) -> datetime: ...

    @property
    def is_server_owner(self) -> bool: ...

    @property
    def preferred_address(self) -> IAddress | None: ...

    @property
    def addresses(self) -> Sequence[IAddress]: ...


class IUserManager(Protocol):
    """Finds, creates and changes users and addresses.

    Methods take and return plain values (user ids, email strings, snapshots): callers
    hold no session and may keep a returned object after the call.  Emails are matched
    case-insensitively.  Errors are PosthornError subclasses: InvalidAddressError,
    NoSuchUserError, NoSuchAddressError, DuplicateAddressError, AddressInUseError,
    UnverifiedAddressError.
    """

    def create_user(
        self,
        email: str | None = None,
        display_name: str | None = None,
        password: str | None = None,
    ) -> IUser:
        """A new user, owning ``email`` if given (registered now if it is new).

        Raises AddressInUseError if another user owns the address already.
        """

    def get_user(self, user_id: str) -> IUser | None: ...

    def get_user_by_address(self, email: str) -> IUser | None: ...

    def update_user(
        self,
        user_id: str,
        *,
        display_name: str | None = None,
        is_server_owner: bool | None = None,
    ) -> IUser:
        """Change what is given (None leaves a value as it is)."""

    def delete_user(self, user_id: str) -> None:
        """Remove the user and the addresses it owns (memberships are the list slice's)."""

    def users(self, *, offset: int = 0, limit: int | None = None) -> Sequence[IUser]:
        """Users ordered by creation, one page at a time."""

    def user_count(self) -> int: ...

    def set_password(self, user_id: str, password: str) -> None:
        """Store an argon2 hash of ``password``; fires PasswordChangeEvent."""

    def check_password(self, user_id: str, password: str) -> bool:
        """True if ``password`` matches; False for a user without one."""

    def get_address(self, email: str) -> IAddress | None: ...

    def create_address(self, email: str, display_name: str | None = None) -> IAddress:
        """Register a new, unverified, unowned address; DuplicateAddressError if known."""

    def get_or_create_address(self, email: str, display_name: str | None = None) -> IAddress:
        """The registered address, registering it first if it is new."""

    def delete_address(self, email: str) -> None: ...

    def addresses(self, *, offset: int = 0, limit: int | None = None) -> Sequence[IAddress]:
        """Every registered address, ordered by email, one page at a time."""

    def address_count(self) -> int: ...

    def addresses_of(self, user_id: str) -> Sequence[IAddress]:
        """The addresses a user owns, ordered by email."""

    def link_address(self, user_id: str, email: str) -> IAddress:
        """Give an unowned address to a user (registering it if new)."""

    def unlink_address(self, email: str) -> IAddress:
        """Take an address away from its user; it stays registered."""

    def verify_address(self, email: str) -> IAddress:
        """Mark the address verified now; fires AddressVerifiedEvent."""

    def unverify_address(self, email: str) -> IAddress: ...

    def set_preferred_address(self, user_id: str, email: str) -> IUser:
        """The address the user's mail goes to by default; it must be theirs and verified."""

    def clear_preferred_address(self, user_id: str) -> IUser:
        """The user prefers no address any more; their addresses stay."""

    # Preferences (names, values and precedence: posthorn.preferences).  Only the
    # preferences set here are returned; unset ones fall through to the next level.

    def user_preferences(self, user_id: str) -> Mapping[str, Any]:
        """The preferences the user set; NoSuchUserError for an unknown user."""

    def set_user_preferences(
        self, user_id: str, changes: Mapping[str, Any], *, replace: bool = False
    ) -> Mapping[str, Any]:
        """Apply checked ``changes`` (None unsets one); ``replace`` unsets all others first.

        InvalidSettingError for an unknown name or a bad value, and then nothing changes.
        """

    def address_preferences(self, email: str) -> Mapping[str, Any]:
        """The preferences set on the address; NoSuchAddressError if not registered."""

    def set_address_preferences(
        self, email: str, changes: Mapping[str, Any], *, replace: bool = False
    ) -> Mapping[str, Any]:
        """As ``set_user_preferences``, for an address."""
