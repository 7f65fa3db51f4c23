"""Memberships and rosters, as part of the default list manager.

A member row names its list by the list-id string and its address by the lowercased
email, and asks the user manager (through IUserManager only) to register the address:
the user slice may live in another database or another system entirely.  Rosters are
queries returning frozen ``Member`` snapshots; nothing depends on them being rows.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Self, cast

from sqlalchemy import Index, Select, String, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from posthorn.address import normalize_email
from posthorn.errors import (
    AlreadyMemberError,
    InvalidSettingError,
    NoSuchMemberError,
    NotAMemberError,
)
from posthorn.events import EventBus, SubscriptionEvent, UnsubscriptionEvent
from posthorn.interfaces.lists import Action, DeliveryMode, DeliveryStatus, ListRef, Role
from posthorn.model.base import ListBase, SessionFactory, UTCDateTime, new_id, page, utc_now

if TYPE_CHECKING:
    from posthorn.interfaces.lists import IMailingList
    from posthorn.interfaces.users import IUserManager

__all__ = ["DatabaseRoster", "Member", "MemberRow", "MembershipMixin"]

_DIGEST_MODES = ("plaintext_digests", "mime_digests", "summary_digests")


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
    def of(cls, row: MemberRow) -> Self:
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
            return [Member.of(row) for row in session.scalars(query)]

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
        list_id = self.require(mlist).list_id
        _choice("role", role, Role)
        _choice("delivery_mode", delivery_mode, DeliveryMode)
        _choice("delivery_status", delivery_status, DeliveryStatus)
        if moderation_action is not None:
            _choice("moderation_action", moderation_action, Action)
        key = normalize_email(email)
        address = self._users.get_or_create_address(email, display_name)
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
        list_id = self.require(mlist).list_id
        if not self._drop(list_id, email.lower(), role):
            raise NotAMemberError(f"{email} is not a {role} of {list_id}")

    def roster(self, mlist: ListRef) -> DatabaseRoster:
        return DatabaseRoster(self._session, self.require(mlist).list_id)

    def find_members(
        self,
        *,
        list_id: str | None = None,
        email: str | None = None,
        role: Role | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[Member]:
        query = select(MemberRow)
        if list_id is not None:
            query = query.where(MemberRow.list_id == list_id)
        if email is not None:
            query = query.where(MemberRow.email == email.lower())
        if role is not None:
            query = query.where(MemberRow.role == role)
        query = query.order_by(MemberRow.list_id, MemberRow.email, MemberRow.role)
        with self._session() as session:
            return [Member.of(row) for row in session.scalars(page(query, offset, limit))]

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

    def _delete_members(self, session: Session, list_id: str) -> None:
        session.execute(delete(MemberRow).where(MemberRow.list_id == list_id))
