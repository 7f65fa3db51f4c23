"""The default user manager: users and addresses in the user slice's database.

Everything handed out is a frozen snapshot, so a caller never holds a session or a row
that a later commit could expire.  New passwords are stored as argon2 hashes; a hash
imported from another site is verified in its own format and replaced by Posthorn's at
the first successful login or password change (see ``posthorn.passwords``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Self

from sqlalchemy import JSON, ForeignKey, String, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from posthorn.address import normalize_email
from posthorn.errors import (
    AddressInUseError,
    DuplicateAddressError,
    NoSuchAddressError,
    NoSuchUserError,
    UnverifiedAddressError,
)
from posthorn.events import AddressVerifiedEvent, EventBus, PasswordChangeEvent
from posthorn.model.base import SessionFactory, UserBase, UTCDateTime, new_id, page, utc_now
from posthorn.passwords import hash_password, verify_password
from posthorn.preferences import merged

if TYPE_CHECKING:
    from posthorn.site import Site

__all__ = ["Address", "AddressRow", "DatabaseUserManager", "User", "UserRow"]


class UserRow(UserBase):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), index=True, unique=True)
    display_name: Mapped[str | None] = mapped_column(String(255))
    password: Mapped[str | None] = mapped_column(String(255))
    created_on: Mapped[datetime] = mapped_column(UTCDateTime())
    is_server_owner: Mapped[bool] = mapped_column(default=False)
    # The preferred address by email, not by key: it stays readable on its own.
    preferred_email: Mapped[str | None] = mapped_column(String(254))
    # Only the preferences this user set (see posthorn.preferences); None when none.
    preferences: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class AddressRow(UserBase):
    __tablename__ = "addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True, unique=True)
    original_email: Mapped[str] = mapped_column(String(254))
    display_name: Mapped[str | None] = mapped_column(String(255))
    registered_on: Mapped[datetime] = mapped_column(UTCDateTime())
    verified_on: Mapped[datetime | None] = mapped_column(UTCDateTime())
    user_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("users.user_id", ondelete="CASCADE"), index=True
    )
    preferences: Mapped[dict[str, Any] | None] = mapped_column(JSON)


@dataclass(frozen=True)
class Address:
    email: str
    original_email: str
    display_name: str | None
    registered_on: datetime
    verified_on: datetime | None
    user_id: str | None

    @property
    def verified(self) -> bool:
        return self.verified_on is not None

    @classmethod
    def of(cls, row: AddressRow) -> Self:
        return cls(
            row.email,
            row.original_email,
            row.display_name,
            row.registered_on,
            row.verified_on,
            row.user_id,
        )


@dataclass(frozen=True)
class User:
    user_id: str
    display_name: str | None
    password: str | None
    created_on: datetime
    is_server_owner: bool
    preferred_address: Address | None
    addresses: tuple[Address, ...]


class DatabaseUserManager:
    """IUserManager over the user slice (see posthorn.interfaces.users for the contract)."""

    def __init__(self, session: SessionFactory, events: EventBus) -> None:
        self._session = session
        self._events = events

    @classmethod
    def from_site(cls, site: Site) -> Self:
        return cls(site.databases.session_factory("user"), site.events)

    # Snapshots.

    def _users(self, session: Session, rows: Iterable[UserRow]) -> list[User]:
        rows = list(rows)
        owned: dict[str, list[Address]] = {row.user_id: [] for row in rows}
        if owned:
            query = select(AddressRow).where(AddressRow.user_id.in_(owned))
            for address in session.scalars(query.order_by(AddressRow.email)):
                owned[address.user_id or ""].append(Address.of(address))
        return [
            User(
                row.user_id,
                row.display_name,
                row.password,
                row.created_on,
                row.is_server_owner,
                next((a for a in owned[row.user_id] if a.email == row.preferred_email), None),
                tuple(owned[row.user_id]),
            )
            for row in rows
        ]

    def _user(self, session: Session, row: UserRow) -> User:
        return self._users(session, [row])[0]

    def _user_row(self, session: Session, user_id: str) -> UserRow:
        row = session.scalar(select(UserRow).where(UserRow.user_id == user_id))
        if row is None:
            raise NoSuchUserError(f"no user with id {user_id!r}")
        return row

    def _address_row(self, session: Session, email: str) -> AddressRow | None:
        return session.scalar(select(AddressRow).where(AddressRow.email == normalize_email(email)))

    def _existing_address(self, session: Session, email: str) -> AddressRow:
        row = self._address_row(session, email)
        if row is None:
            raise NoSuchAddressError(f"{email} is not a registered address")
        return row

    def _new_address(self, session: Session, email: str, display_name: str | None) -> AddressRow:
        row = AddressRow(
            email=normalize_email(email),
            original_email=email,
            display_name=display_name,
            registered_on=utc_now(),
        )
        session.add(row)
        try:
            session.flush()
        except IntegrityError:
            # Another process registered it between our look-up and our insert.
            raise DuplicateAddressError(f"{email} is registered already") from None
        return row

    def _release(self, session: Session, row: AddressRow) -> None:
        """Detach an address from its user, who then prefers no address if it was this."""
        if row.user_id is not None:
            user = self._user_row(session, row.user_id)
            if user.preferred_email == row.email:
                user.preferred_email = None
            row.user_id = None

    # Users.

    def create_user(
        self,
        email: str | None = None,
        display_name: str | None = None,
        password: str | None = None,
    ) -> User:
        with self._session() as session:
            user = UserRow(
                user_id=new_id(),
                display_name=display_name,
                password=hash_password(password) if password is not None else None,
                created_on=utc_now(),
                is_server_owner=False,
            )
            session.add(user)
            session.flush()
            if email is not None:
                address = self._address_row(session, email)
                if address is None:
                    address = self._new_address(session, email, display_name)
                elif address.user_id is not None:
                    raise AddressInUseError(f"{email} belongs to another user")
                address.user_id = user.user_id
                session.flush()
            return self._user(session, user)

    def get_user(self, user_id: str) -> User | None:
        with self._session() as session:
            row = session.scalar(select(UserRow).where(UserRow.user_id == user_id))
            return None if row is None else self._user(session, row)

    def get_user_by_address(self, email: str) -> User | None:
        with self._session() as session:
            address = self._address_row(session, email)
            if address is None or address.user_id is None:
                return None
            return self._user(session, self._user_row(session, address.user_id))

    def update_user(
        self,
        user_id: str,
        *,
        display_name: str | None = None,
        is_server_owner: bool | None = None,
    ) -> User:
        with self._session() as session:
            row = self._user_row(session, user_id)
            if display_name is not None:
                row.display_name = display_name
            if is_server_owner is not None:
                row.is_server_owner = is_server_owner
            session.flush()
            return self._user(session, row)

    def delete_user(self, user_id: str) -> None:
        with self._session() as session:
            row = self._user_row(session, user_id)
            session.execute(delete(AddressRow).where(AddressRow.user_id == user_id))
            session.delete(row)

    def users(self, *, offset: int = 0, limit: int | None = None) -> list[User]:
        query = select(UserRow).order_by(UserRow.created_on, UserRow.id)
        with self._session() as session:
            return self._users(session, session.scalars(page(query, offset, limit)))

    def user_count(self) -> int:
        with self._session() as session:
            return session.scalar(select(func.count()).select_from(UserRow)) or 0

    def set_password(self, user_id: str, password: str) -> None:
        with self._session() as session:
            self._user_row(session, user_id).password = hash_password(password)
        self._events.notify(PasswordChangeEvent(user_id))

    def check_password(self, user_id: str, password: str) -> bool:
        with self._session() as session:
            row = self._user_row(session, user_id)
            if row.password is None:
                return False
            matches, rehash = verify_password(row.password, password)
            # Stronger parameters, or a hash brought from another site: store ours.
            if matches and rehash:
                row.password = hash_password(password)
            return matches

    # Addresses.

    def get_address(self, email: str) -> Address | None:
        with self._session() as session:
            row = self._address_row(session, email)
            return None if row is None else Address.of(row)

    def create_address(self, email: str, display_name: str | None = None) -> Address:
        with self._session() as session:
            if self._address_row(session, email) is not None:
                raise DuplicateAddressError(f"{email} is registered already")
            return Address.of(self._new_address(session, email, display_name))

    def get_or_create_address(self, email: str, display_name: str | None = None) -> Address:
        try:
            return self._get_or_create_address(email, display_name)
        except DuplicateAddressError:
            # Lost a race with another process: the address exists now, so read it.
            return self._get_or_create_address(email, display_name)

    def _get_or_create_address(self, email: str, display_name: str | None) -> Address:
        with self._session() as session:
            row = self._address_row(session, email)
            if row is None:
                row = self._new_address(session, email, display_name)
            return Address.of(row)

    def delete_address(self, email: str) -> None:
        with self._session() as session:
            row = self._existing_address(session, email)
            self._release(session, row)
            session.delete(row)

    def addresses(self, *, offset: int = 0, limit: int | None = None) -> list[Address]:
        query = select(AddressRow).order_by(AddressRow.email)
        with self._session() as session:
            return [Address.of(row) for row in session.scalars(page(query, offset, limit))]

    def address_count(self) -> int:
        with self._session() as session:
            return session.scalar(select(func.count()).select_from(AddressRow)) or 0

    def addresses_of(self, user_id: str) -> list[Address]:
        query = select(AddressRow).where(AddressRow.user_id == user_id)
        with self._session() as session:
            self._user_row(session, user_id)
            return [Address.of(row) for row in session.scalars(query.order_by(AddressRow.email))]

    def link_address(self, user_id: str, email: str) -> Address:
        with self._session() as session:
            self._user_row(session, user_id)
            row = self._address_row(session, email) or self._new_address(session, email, None)
            if row.user_id not in (None, user_id):
                raise AddressInUseError(f"{email} belongs to another user")
            row.user_id = user_id
            session.flush()
            return Address.of(row)

    def unlink_address(self, email: str) -> Address:
        with self._session() as session:
            row = self._existing_address(session, email)
            self._release(session, row)
            session.flush()
            return Address.of(row)

    def verify_address(self, email: str) -> Address:
        with self._session() as session:
            row = self._existing_address(session, email)
            row.verified_on = utc_now()
            session.flush()
            address = Address.of(row)
        self._events.notify(AddressVerifiedEvent(address.email))
        return address

    def unverify_address(self, email: str) -> Address:
        with self._session() as session:
            row = self._existing_address(session, email)
            row.verified_on = None
            session.flush()
            return Address.of(row)

    def set_preferred_address(self, user_id: str, email: str) -> User:
        with self._session() as session:
            user = self._user_row(session, user_id)
            row = self._existing_address(session, email)
            if row.user_id != user_id:
                raise AddressInUseError(f"{email} does not belong to this user")
            if row.verified_on is None:
                raise UnverifiedAddressError(f"{email} is not verified")
            user.preferred_email = row.email
            session.flush()
            return self._user(session, user)

    def clear_preferred_address(self, user_id: str) -> User:
        with self._session() as session:
            user = self._user_row(session, user_id)
            user.preferred_email = None
            session.flush()
            return self._user(session, user)

    # Preferences: stored as given, checked by posthorn.preferences.

    def user_preferences(self, user_id: str) -> dict[str, Any]:
        with self._session() as session:
            return dict(self._user_row(session, user_id).preferences or {})

    def set_user_preferences(
        self, user_id: str, changes: Mapping[str, Any], *, replace: bool = False
    ) -> dict[str, Any]:
        with self._session() as session:
            row = self._user_row(session, user_id)
            # A new dict each time, so the ORM sees the JSON column change.
            row.preferences = merged(None if replace else row.preferences, changes) or None
            return dict(row.preferences or {})

    def address_preferences(self, email: str) -> dict[str, Any]:
        with self._session() as session:
            return dict(self._existing_address(session, email).preferences or {})

    def set_address_preferences(
        self, email: str, changes: Mapping[str, Any], *, replace: bool = False
    ) -> dict[str, Any]:
        with self._session() as session:
            row = self._existing_address(session, email)
            row.preferences = merged(None if replace else row.preferences, changes) or None
            return dict(row.preferences or {})
