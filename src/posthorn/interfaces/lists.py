"""The list slice as the rest of Posthorn sees it: lists, members, rosters, pendings.

A list is identified by its posting address (``dev@example.org``, the fqdn_listname)
or by its RFC 2919 list-id (``dev.example.org``); every manager method that takes a
list accepts either string or an IMailingList.  Members name their list by list-id and
their address by email, never by a key into another slice.

The list settings are declared in ``posthorn.interfaces.settings``; the choice types
used here too are re-exported from there.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol, runtime_checkable

from posthorn.interfaces.settings import (
    Action,
    ArchivePolicy,
    IListSettings,
    SubscriptionPolicy,
)

__all__ = [
    "Action",
    "ArchivePolicy",
    "DeliveryMode",
    "DeliveryStatus",
    "IListManager",
    "IMailingList",
    "IMember",
    "IPending",
    "IRoster",
    "ListRef",
    "Role",
    "SubscriptionPolicy",
]

Role = Literal["owner", "moderator", "member", "nonmember"]
DeliveryMode = Literal["regular", "plaintext_digests", "mime_digests", "summary_digests"]
DeliveryStatus = Literal["enabled", "by_user", "by_bounces", "by_moderator", "unknown"]


@runtime_checkable
class IMailingList(IListSettings, Protocol):
    """A read-only view of one list: identity, counters and every setting.

    The settings, their types and defaults are those of ``IListSettings``, declared
    there once; what this adds is read-only everywhere (REST answers "Read-only
    attribute").  Change settings with ``IListManager.update``; the view does not
    change under you.
    """

    # Identity, derived addresses and what Posthorn counts (read-only everywhere).
    @property
    def list_id(self) -> str: ...
    @property
    def fqdn_listname(self) -> str: ...
    @property
    def list_name(self) -> str: ...
    @property
    def mail_host(self) -> str: ...
    @property
    def posting_address(self) -> str: ...
    @property
    def request_address(self) -> str: ...
    @property
    def owner_address(self) -> str: ...
    @property
    def bounces_address(self) -> str: ...
    @property
    def join_address(self) -> str: ...
    @property
    def leave_address(self) -> str: ...
    @property
    def no_reply_address(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def post_id(self) -> int: ...
    @property
    def volume(self) -> int: ...
    @property
    def next_digest_number(self) -> int: ...
    @property
    def last_post_at(self) -> datetime | None: ...
    @property
    def digest_last_sent_at(self) -> datetime | None: ...
    @property
    def usenet_watermark(self) -> int | None: ...


ListRef = IMailingList | str


@runtime_checkable
class IMember(Protocol):
    """One address in one role on one list."""

    @property
    def member_id(self) -> str:
        """32 lowercase hex digits, stable for the membership's life."""

    @property
    def list_id(self) -> str: ...
    @property
    def email(self) -> str: ...
    @property
    def display_name(self) -> str | None: ...
    @property
    def role(self) -> Role: ...
    @property
    def moderation_action(self) -> Action | None:
        """None means the list's default for the role."""

    @property
    def delivery_mode(self) -> DeliveryMode: ...
    @property
    def delivery_status(self) -> DeliveryStatus: ...
    @property
    def user_id(self) -> str | None:
        """The user owning the address when it subscribed, if any."""

    @property
    def subscribed_on(self) -> datetime: ...


class IRoster(Protocol):
    """One list's memberships, by role; every property is a fresh query."""

    @property
    def list_id(self) -> str: ...
    @property
    def members(self) -> Sequence[IMember]:
        """Role ``member``, any delivery mode."""

    @property
    def regular_members(self) -> Sequence[IMember]: ...
    @property
    def digest_members(self) -> Sequence[IMember]: ...
    @property
    def owners(self) -> Sequence[IMember]: ...
    @property
    def moderators(self) -> Sequence[IMember]: ...
    @property
    def administrators(self) -> Sequence[IMember]:
        """Owners and moderators."""

    @property
    def nonmembers(self) -> Sequence[IMember]: ...
    def addresses(self, modes: Collection[str], size: int) -> Iterator[list[str]]:
        """Emails of the members with delivery enabled in these delivery ``modes``, in
        chunks of at most ``size``: a large list is never read whole."""

    def get_member(self, email: str, role: Role = "member") -> IMember | None: ...


@runtime_checkable
class IPending(Protocol):
    """Something waiting for a confirmation token (a subscription, an unsubscription...)."""

    @property
    def token(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def list_id(self) -> str | None: ...
    @property
    def data(self) -> Mapping[str, Any]: ...
    @property
    def created_on(self) -> datetime: ...
    @property
    def expires_on(self) -> datetime: ...


class IListManager(Protocol):
    """Lists, their settings, their members and pending confirmations.

    Errors: InvalidListNameError, InvalidAddressError, DuplicateListError,
    NoSuchListError, NoSuchDomainError, InvalidSettingError (and its Unknown/ReadOnly
    subclasses), AlreadyMemberError, NotAMemberError, NoSuchMemberError.
    """

    def create(
        self, fqdn_listname: str, *, owners: Sequence[str] = (), create_domain: bool = True
    ) -> IMailingList:
        """A new list with default settings; fires ListCreatedEvent.

        The domain is created when missing unless ``create_domain`` is false
        (NoSuchDomainError then).  Each owner is subscribed with role ``owner``.
        """

    def get(self, name: str) -> IMailingList | None:
        """By posting address or list-id."""

    def require(self, mlist: ListRef) -> IMailingList:
        """Like get, but NoSuchListError when missing."""

    def remove(self, mlist: ListRef) -> None:
        """Delete the list, its members and pendings; fires ListDeletedEvent."""

    def lists(
        self,
        *,
        mail_host: str | None = None,
        advertised: bool | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> Sequence[IMailingList]:
        """Lists ordered by list-id, optionally of one domain or advertised only."""

    def count(self, *, mail_host: str | None = None, advertised: bool | None = None) -> int: ...

    def update(self, mlist: ListRef, **settings: Any) -> IMailingList:
        """Change settings, checked against their types and choices, all or none.

        Fires ConfigurationChangeEvent with the settings that changed value.
        """

    def record_post(
        self, mlist: ListRef, message_id: str | None = None, *, shown: bool = True
    ) -> int:
        """Count a post (post_id + 1, last_post_at = now) atomically; the new post_id.

        With a ``message_id``, counting is once per message: a message counted before
        (a redone pipeline entry) is not counted again, and the answer is the post_id
        its first count left.  With ``shown=False`` (nothing shows the post's number)
        the count may come from numbers reserved ahead: post_id is then a high-water
        mark until ``settle_posts``, a killed process leaves a gap, a redone entry
        counts again, and no number is ever handed out twice.
        """

    def settle_posts(self, older_than: float = ...) -> float | None:
        """Give back the numbers left of blocks reserved ``older_than`` seconds ago.

        Seconds until the next is due; None when this process holds none.
        """

    def post_number(self, mlist: ListRef, message_id: str | None = None) -> int:
        """This post's number: the one it was counted with, else the next (post_id)."""

    def subscribe(
        self,
        mlist: ListRef,
        email: str,
        *,
        role: Role = "member",
        display_name: str | None = None,
        delivery_mode: DeliveryMode = "regular",
        delivery_status: DeliveryStatus = "enabled",
        moderation_action: Action | None = None,
    ) -> IMember:
        """Add the address (registered through the user manager) in that role.

        Fires SubscriptionEvent; AlreadyMemberError if it holds the role already.
        """

    def unsubscribe(self, mlist: ListRef, email: str, role: Role = "member") -> None:
        """Fires UnsubscriptionEvent; NotAMemberError if it does not hold the role."""

    def roster(self, mlist: ListRef) -> IRoster: ...

    def find_members(
        self,
        *,
        list_id: str | None = None,
        email: str | None = None,
        role: Role | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> Sequence[IMember]:
        """Memberships matching every criterion given, by list-id, then email, then role."""

    def get_member(self, member_id: str) -> IMember | None: ...

    def update_member(
        self,
        member_id: str,
        *,
        display_name: str | None = None,
        moderation_action: Action | Literal["default"] | None = None,
        delivery_mode: DeliveryMode | None = None,
        delivery_status: DeliveryStatus | None = None,
    ) -> IMember:
        """Change what is given; ``moderation_action="default"`` clears it."""

    def change_address(self, member_id: str, email: str) -> IMember:
        """Move the membership to another address, keeping its member_id and settings.

        The address is registered through the user manager if new; AlreadyMemberError
        if it already holds the same role on the list; NoSuchMemberError.
        """

    def member_preferences(self, member_id: str) -> Mapping[str, Any]:
        """The preferences set on the membership, always with delivery mode and status.

        What applies after falling through to address, user and site:
        ``posthorn.preferences.effective_preferences``.
        """

    def set_member_preferences(
        self, member_id: str, changes: Mapping[str, Any], *, replace: bool = False
    ) -> Mapping[str, Any]:
        """Apply checked ``changes`` (None unsets one); ``replace`` unsets all others first.

        InvalidSettingError for an unknown name or a bad value, and nothing changes.
        """

    def add_pending(
        self,
        type: str,
        data: Mapping[str, Any],
        lifetime: timedelta,
        *,
        list_id: str | None = None,
    ) -> str:
        """Keep JSON-safe ``data`` until confirmed or expired; returns a url-safe token."""

    def get_pending(self, token: str) -> IPending | None:
        """The pending request, or None if unknown or expired."""

    def confirm(self, token: str) -> IPending | None:
        """Take the pending request out (it cannot be confirmed twice); None if expired."""

    def pendings(
        self, *, type: str | None = None, list_id: str | None = None
    ) -> Sequence[IPending]:
        """Unexpired pending requests, oldest first."""

    def evict_expired(self) -> int:
        """Delete expired pending requests; how many went."""
