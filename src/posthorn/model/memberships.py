"""Memberships: the list manager's part that subscribes, finds and updates members.

A membership asks the user manager (through IUserManager only) to register its
address: the user slice may live in another database or another system entirely.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from posthorn.address import normalize_email
from posthorn.errors import (
    AlreadyMemberError,
    InvalidSettingError,
    NoSuchMemberError,
    NotAMemberError,
)
from posthorn.events import EventBus, SubscriptionEvent, UnsubscriptionEvent
from posthorn.interfaces.lists import Action, DeliveryMode, DeliveryStatus, ListRef, Role
from posthorn.model.base import SessionFactory, new_id, page, utc_now
from posthorn.model.members import (
    SNAPSHOT_COLUMNS,
    DatabaseRoster,
    Member,
    MemberRow,
    fast_member,
    snapshots,
)
from posthorn.model.registration import address_with_user
from posthorn.preferences import MEMBER_COLUMNS, check_preferences, merged

if TYPE_CHECKING:
    from posthorn.interfaces.users import IUserManager

__all__ = ["Memberships"]

# The preferences kept as membership columns, and what each reads when never set.
_COLUMN_DEFAULTS = {"delivery_mode": "regular", "delivery_status": "enabled"}
# Every row of one address on one list, by the unique (list_id, email, role) index;
# ordered as find_members orders, by role.
_BY_ADDRESS = (
    select(*SNAPSHOT_COLUMNS)
    .where(MemberRow.list_id == bindparam("list_id"), MemberRow.email == bindparam("email"))
    .order_by(MemberRow.role)
)


def _choice(name: str, value: Any, kind: Any) -> None:
    choices = typing.get_args(kind)
    if value not in choices:
        raise InvalidSettingError(name, f"{name} must be one of: {', '.join(choices)}")


class Memberships:
    """The memberships part of the list manager (see IListManager for the contract)."""

    def __init__(
        self,
        session: SessionFactory,
        events: EventBus,
        users: IUserManager,
        existing_list_id: Callable[[ListRef], str],
    ) -> None:
        self._session = session
        self._events = events
        self._users = users
        # The lists part's check that a list exists, returning its list-id.
        self._existing_list_id = existing_list_id

    def _member_row(
        self, session: Session, list_id: str, email: str, role: str
    ) -> MemberRow | None:
        query = select(MemberRow).where(
            MemberRow.list_id == list_id, MemberRow.email == email, MemberRow.role == role
        )
        return session.scalar(query)

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
    ) -> Member:
        list_id = self._existing_list_id(mlist)
        _choice("role", role, Role)
        _choice("delivery_mode", delivery_mode, DeliveryMode)
        _choice("delivery_status", delivery_status, DeliveryStatus)
        if moderation_action is not None:
            _choice("moderation_action", moderation_action, Action)
        key = normalize_email(email)
        address = address_with_user(self._users, email, display_name)
        with self._session() as session:
            if self._member_row(session, list_id, key, role) is not None:
                raise AlreadyMemberError(f"{key} is already a {role} of {list_id}")
            row = MemberRow(
                member_id=new_id(),
                list_id=list_id,
                email=key,
                display_name=display_name or address.display_name,
                role=role,
                moderation_action=moderation_action,
                delivery_mode=delivery_mode,
                delivery_status=delivery_status,
                user_id=address.user_id,
                subscribed_on=utc_now(),
            )
            session.add(row)
            try:
                session.flush()
            except IntegrityError:
                raise AlreadyMemberError(f"{key} is already a {role} of {list_id}") from None
            member = Member.of(row)
        self._events.notify(SubscriptionEvent(list_id, key, role, member.member_id))
        if role == "member":
            # A subscriber is no longer a nonmember: drop that entry, as Mailman does.
            self._drop(list_id, key, "nonmember")
        return member

    def _drop(self, list_id: str, email: str, role: str) -> bool:
        with self._session() as session:
            row = self._member_row(session, list_id, email, role)
            if row is None:
                return False
            member_id = row.member_id
            session.delete(row)
        self._events.notify(UnsubscriptionEvent(list_id, email, role, member_id))
        return True

    def unsubscribe(self, mlist: ListRef, email: str, role: Role = "member") -> None:
        list_id = self._existing_list_id(mlist)
        if not self._drop(list_id, email.lower(), role):
            raise NotAMemberError(f"{email} is not a {role} of {list_id}")

    def roster(self, mlist: ListRef) -> DatabaseRoster:
        return DatabaseRoster(self._session, self._existing_list_id(mlist))

    def find_members(
        self,
        *,
        list_id: str | None = None,
        email: str | None = None,
        role: Role | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[Member]:
        if list_id is not None and email is not None and not offset and limit is None:
            return self._memberships(list_id, email.lower(), role)
        query = select(MemberRow)
        if list_id is not None:
            query = query.where(MemberRow.list_id == list_id)
        if email is not None:
            query = query.where(MemberRow.email == email.lower())
        if role is not None:
            query = query.where(MemberRow.role == role)
        query = query.order_by(MemberRow.list_id, MemberRow.email, MemberRow.role)
        with self._session() as session:
            return snapshots(session, page(query, offset, limit))

    def _memberships(self, list_id: str, email: str, role: Role | None) -> list[Member]:
        """One address's rows on one list: the poster's look-up, made for every post.

        The statement is built once (see ``_BY_ADDRESS``); building and compiling it
        anew cost more than running it.  An address has at most one row per role, so
        the role is picked out here rather than by a second statement.
        """
        with self._session() as session:
            rows = session.connection().execute(_BY_ADDRESS, {"list_id": list_id, "email": email})
            found = [fast_member(row) for row in rows]
        return found if role is None else [member for member in found if member.role == role]

    def get_member(self, member_id: str) -> Member | None:
        with self._session() as session:
            row = session.scalar(select(MemberRow).where(MemberRow.member_id == member_id))
            return None if row is None else Member.of(row)

    def update_member(
        self,
        member_id: str,
        *,
        display_name: str | None = None,
        moderation_action: Action | Literal["default"] | None = None,
        delivery_mode: DeliveryMode | None = None,
        delivery_status: DeliveryStatus | None = None,
    ) -> Member:
        if moderation_action not in (None, "default"):
            _choice("moderation_action", moderation_action, Action)
        if delivery_mode is not None:
            _choice("delivery_mode", delivery_mode, DeliveryMode)
        if delivery_status is not None:
            _choice("delivery_status", delivery_status, DeliveryStatus)
        with self._session() as session:
            row = session.scalar(select(MemberRow).where(MemberRow.member_id == member_id))
            if row is None:
                raise NoSuchMemberError(f"no member with id {member_id!r}")
            if display_name is not None:
                row.display_name = display_name
            if moderation_action is not None:
                row.moderation_action = (
                    None if moderation_action == "default" else moderation_action
                )
            row.delivery_mode = delivery_mode or row.delivery_mode
            row.delivery_status = delivery_status or row.delivery_status
            session.flush()
            return Member.of(row)

    def _existing_member(self, session: Session, member_id: str) -> MemberRow:
        row = session.scalar(select(MemberRow).where(MemberRow.member_id == member_id))
        if row is None:
            raise NoSuchMemberError(f"no member with id {member_id!r}")
        return row

    def change_address(self, member_id: str, email: str) -> Member:
        key = normalize_email(email)
        address = self._users.get_or_create_address(email)
        with self._session() as session:
            row = self._existing_member(session, member_id)
            if row.email != key:
                if self._member_row(session, row.list_id, key, row.role) is not None:
                    raise AlreadyMemberError(f"{key} is already a {row.role} of {row.list_id}")
                row.email = key
                row.user_id = address.user_id
                try:
                    session.flush()
                except IntegrityError:
                    raise AlreadyMemberError(f"{key} is already a {row.role}") from None
            return Member.of(row)

    def member_preferences(self, member_id: str) -> dict[str, Any]:
        with self._session() as session:
            row = self._existing_member(session, member_id)
            found = dict(row.preferences or {})
            # A column reads as set when it was set (its name is kept among the stored
            # preferences) or differs from its default (bounces disabled the member).
            for name, default in _COLUMN_DEFAULTS.items():
                if name in found or getattr(row, name) != default:
                    found[name] = getattr(row, name)
            return found

    def set_member_preferences(
        self, member_id: str, changes: Mapping[str, Any], *, replace: bool = False
    ) -> dict[str, Any]:
        checked = check_preferences(changes)
        columns = {name: checked.pop(name) for name in MEMBER_COLUMNS if name in checked}
        with self._session() as session:
            row = self._existing_member(session, member_id)
            stored = merged(None if replace else row.preferences, checked)
            # Unset (None, or left out of a replacement), a column takes its default.
            for name, default in _COLUMN_DEFAULTS.items():
                if replace or name in columns:
                    setattr(row, name, columns.get(name) or default)
                    stored.pop(name, None)
                    if columns.get(name):
                        stored[name] = columns[name]
            row.preferences = stored or None
        return self.member_preferences(member_id)
