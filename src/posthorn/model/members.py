"""Memberships and rosters, as part of the default list manager.

A member row names its list by the list-id string and its address by the lowercased
email, and asks the user manager (through IUserManager only) to register the address:
the user slice may live in another database or another system entirely.  Rosters are
queries returning frozen ``Member`` snapshots; nothing depends on them being rows.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Self, cast

from sqlalchemy import JSON, Index, Row, Select, String, bindparam, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from posthorn.address import normalize_email
from posthorn.errors import (
    AlreadyMemberError,
    InvalidSettingError,
    NoSuchListError,
    NoSuchMemberError,
    NotAMemberError,
)
from posthorn.events import EventBus, SubscriptionEvent, UnsubscriptionEvent
from posthorn.interfaces.lists import Action, DeliveryMode, DeliveryStatus, ListRef, Role
from posthorn.model.base import ListBase, SessionFactory, UTCDateTime, new_id, page, utc_now
from posthorn.model.registration import address_with_user
from posthorn.preferences import MEMBER_COLUMNS, check_preferences, merged

if TYPE_CHECKING:
    from posthorn.interfaces.lists import IMailingList
    from posthorn.interfaces.users import IUserManager

__all__ = ["DatabaseRoster", "Member", "MemberRow", "MembershipMixin"]

_DIGEST_MODES = ("plaintext_digests", "mime_digests", "summary_digests")
# The preferences kept as membership columns, and what each reads when never set.
_COLUMN_DEFAULTS = {"delivery_mode": "regular", "delivery_status": "enabled"}


class MemberRow(ListBase):
    __tablename__ = "members"
    __table_args__ = (Index(None, "list_id", "email", "role", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[str] = mapped_column(String(32), index=True, unique=True)
    # The list by its list-id and the address by its email: no key into another table.
    list_id: Mapped[str] = mapped_column(String(255))
    email: Mapped[str] = mapped_column(String(254), index=True)
    display_name: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    moderation_action: Mapped[str | None] = mapped_column(String(16))
    delivery_mode: Mapped[str] = mapped_column(String(32), default="regular")
    delivery_status: Mapped[str] = mapped_column(String(32), default="enabled")
    user_id: Mapped[str | None] = mapped_column(String(32), index=True)
    subscribed_on: Mapped[datetime] = mapped_column(UTCDateTime())
    # The preferences set on this membership other than its delivery mode and status
    # (see posthorn.preferences); None when none is.
    preferences: Mapped[dict[str, Any] | None] = mapped_column(JSON)


@dataclass(frozen=True)
class Member:
    member_id: str
    list_id: str
    email: str
    display_name: str | None
    role: Role
    moderation_action: Action | None
    delivery_mode: DeliveryMode
    delivery_status: DeliveryStatus
    user_id: str | None
    subscribed_on: datetime

    @classmethod
    def of(cls, row: MemberRow | Row[Any]) -> Self:
        return cls(
            row.member_id,
            row.list_id,
            row.email,
            row.display_name,
            cast(Role, row.role),
            cast("Action | None", row.moderation_action),
            cast(DeliveryMode, row.delivery_mode),
            cast(DeliveryStatus, row.delivery_status),
            row.user_id,
            row.subscribed_on,
        )


_FIELDS = tuple(field.name for field in dataclasses.fields(Member))


_COLUMNS = tuple(MemberRow.__table__.columns[f] for f in _FIELDS)


# Every row of one address on one list, by the unique (list_id, email, role) index;
# ordered as find_members orders, by role.
_BY_ADDRESS = (
    select(*_COLUMNS)
    .where(MemberRow.list_id == bindparam("list_id"), MemberRow.email == bindparam("email"))
    .order_by(MemberRow.role)
)


def _snapshots(session: Session, query: Select[Any]) -> list[Member]:
    """Members from a query on MemberRow, read as plain rows.

    Rosters are read in bulk (a 1,000-member page); plain rows skip building and
    tracking an ORM object per member, which costs more than the query itself.  The
    query runs on the session's connection, as a Core statement: it names only table
    columns, so the ORM's compile and execute layers would add cost and nothing else.
    """
    plain = query.with_only_columns(*_COLUMNS)
    return [_fast_member(row) for row in session.connection().execute(plain)]


def _fast_member(row: Row[Any]) -> Member:
    """``Member.of`` without the frozen dataclass's per-field ``object.__setattr__``.

    Same object, same fields (they are the row's columns in the same order), built at
    a quarter of the cost; the values come straight from a checked row.
    """
    member = object.__new__(Member)
    member.__dict__.update(zip(_FIELDS, row, strict=True))
    return member


def _choice(name: str, value: Any, kind: Any) -> None:
    choices = typing.get_args(kind)
    if value not in choices:
        raise InvalidSettingError(name, f"{name} must be one of: {', '.join(choices)}")


class DatabaseRoster:
    """IRoster for one list: each property runs its query when read."""

    def __init__(self, session: SessionFactory, list_id: str) -> None:
        self._session = session
        self.list_id = list_id

    def _select(self, query: Select[Any]) -> list[Member]:
        query = query.where(MemberRow.list_id == self.list_id).order_by(MemberRow.email)
        with self._session() as session:
            return _snapshots(session, query)

    def _role(self, *roles: str) -> list[Member]:
        return self._select(select(MemberRow).where(MemberRow.role.in_(roles)))

    @property
    def members(self) -> list[Member]:
        return self._role("member")

    @property
    def regular_members(self) -> list[Member]:
        query = select(MemberRow).where(MemberRow.role == "member")
        return self._select(query.where(MemberRow.delivery_mode == "regular"))

    @property
    def digest_members(self) -> list[Member]:
        query = select(MemberRow).where(MemberRow.role == "member")
        return self._select(query.where(MemberRow.delivery_mode.in_(_DIGEST_MODES)))

    @property
    def owners(self) -> list[Member]:
        return self._role("owner")

    @property
    def moderators(self) -> list[Member]:
        return self._role("moderator")

    @property
    def administrators(self) -> list[Member]:
        return self._role("owner", "moderator")

    @property
    def nonmembers(self) -> list[Member]:
        return self._role("nonmember")

    def get_member(self, email: str, role: Role = "member") -> Member | None:
        query = select(MemberRow).where(MemberRow.email == email.lower(), MemberRow.role == role)
        found = self._select(query)
        return found[0] if found else None


class MembershipMixin:
    """The membership half of DatabaseListManager (see IListManager for the contract)."""

    _session: SessionFactory
    _events: EventBus
    _users: IUserManager

    def require(self, mlist: ListRef) -> IMailingList:
        raise NotImplementedError

    def _existing_list_id(self, mlist: ListRef) -> str:
        """The list-id of a list that exists (NoSuchListError otherwise).

        Reads the one column: loading every setting of the list, as ``require`` does,
        was a third of the cost of a subscription.
        """
        # Imported here: lists.py imports this module to build its manager.
        from posthorn.model.lists import MailingListRow
        from posthorn.model.lists import _list_id as list_id_of

        list_id = list_id_of(mlist)
        query = select(MailingListRow.list_id).where(MailingListRow.list_id == list_id)
        with self._session() as session:
            found = None if list_id is None else session.scalar(query)
        if found is None:
            raise NoSuchListError(f"no such list: {mlist if isinstance(mlist, str) else list_id}")
        return found

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
            return _snapshots(session, page(query, offset, limit))

    def _memberships(self, list_id: str, email: str, role: Role | None) -> list[Member]:
        """One address's rows on one list: the poster's look-up, made for every post.

        The statement is built once (see ``_BY_ADDRESS``); building and compiling it
        anew cost more than running it.  An address has at most one row per role, so
        the role is picked out here rather than by a second statement.
        """
        with self._session() as session:
            rows = session.connection().execute(_BY_ADDRESS, {"list_id": list_id, "email": email})
            found = [_fast_member(row) for row in rows]
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

    def _delete_members(self, session: Session, list_id: str) -> None:
        session.execute(delete(MemberRow).where(MemberRow.list_id == list_id))
