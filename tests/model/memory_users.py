"""An IUserManager kept in a dict, standing for "users live in another system".

Selected by one line, ``[components] user_manager: tests.model.memory_users:MemoryUserManager``;
the tests using it check that lists, subscriptions and rosters work with nothing else
changed.  Deliberately written from the interface alone, not from the default manager.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Self

from posthorn.address import normalize_email
from posthorn.errors import (
    AddressInUseError,
    DuplicateAddressError,
    NoSuchAddressError,
    NoSuchUserError,
    UnverifiedAddressError,
)
from posthorn.events import AddressVerifiedEvent, EventBus, PasswordChangeEvent
from posthorn.preferences import merged

if TYPE_CHECKING:
    from posthorn.site import Site


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class MemoryAddress:
    email: str
    original_email: str
    display_name: str | None = None
    registered_on: datetime = field(default_factory=_now)
    verified_on: datetime | None = None
    user_id: str | None = None

    @property
    def verified(self) -> bool:
        return self.verified_on is not None


@dataclass(frozen=True)
class MemoryUser:
    user_id: str
    display_name: str | None
    password: str | None
    created_on: datetime
    is_server_owner: bool
    preferred_address: MemoryAddress | None
    addresses: tuple[MemoryAddress, ...]


@dataclass
class _User:
    user_id: str
    display_name: str | None
    password: str | None = None
    created_on: datetime = field(default_factory=_now)
    is_server_owner: bool = False
    preferred: str | None = None


class MemoryUserManager:
    def __init__(self, events: EventBus) -> None:
        self.events = events
        self._users: dict[str, _User] = {}
        self._addresses: dict[str, MemoryAddress] = {}
        # Preferences by user id or by email: another system keeps them its own way.
        self._preferences: dict[str, dict[str, Any]] = {}
        self.calls: list[str] = []

    @classmethod
    def from_site(cls, site: Site) -> Self:
        return cls(site.events)

    def _snapshot(self, user: _User) -> MemoryUser:
        owned = tuple(sorted(self.addresses_of(user.user_id), key=lambda a: a.email))
        preferred = next((a for a in owned if a.email == user.preferred), None)
        return MemoryUser(
            user.user_id, user.display_name, user.password, user.created_on,
            user.is_server_owner, preferred, owned,
        )  # fmt: skip

    def _user(self, user_id: str) -> _User:
        if user_id not in self._users:
            raise NoSuchUserError(user_id)
        return self._users[user_id]

    def _address(self, email: str) -> MemoryAddress:
        key = normalize_email(email)
        if key not in self._addresses:
            raise NoSuchAddressError(email)
        return self._addresses[key]

    def _replace(self, address: MemoryAddress, **changes: object) -> MemoryAddress:
        new = dataclasses.replace(address, **changes)  # type: ignore[arg-type]
        self._addresses[address.email] = new
        return new

    def create_user(
        self, email: str | None = None, display_name: str | None = None, password: str | None = None
    ) -> MemoryUser:
        user = _User(f"{len(self._users) + 1:032x}", display_name, password)
        address = None if email is None else self.get_or_create_address(email, display_name)
        if address is not None and address.user_id is not None:
            raise AddressInUseError(email)
        self._users[user.user_id] = user
        if address is not None:
            self._replace(address, user_id=user.user_id)
        return self._snapshot(user)

    def get_user(self, user_id: str) -> MemoryUser | None:
        user = self._users.get(user_id)
        return None if user is None else self._snapshot(user)

    def get_user_by_address(self, email: str) -> MemoryUser | None:
        address = self.get_address(email)
        return (
            None if address is None or address.user_id is None else self.get_user(address.user_id)
        )

    def update_user(
        self, user_id: str, *, display_name: str | None = None, is_server_owner: bool | None = None
    ) -> MemoryUser:
        user = self._user(user_id)
        user.display_name = display_name if display_name is not None else user.display_name
        if is_server_owner is not None:
            user.is_server_owner = is_server_owner
        return self._snapshot(user)

    def delete_user(self, user_id: str) -> None:
        self._user(user_id)
        for address in self.addresses_of(user_id):
            del self._addresses[address.email]
        del self._users[user_id]

    def users(self, *, offset: int = 0, limit: int | None = None) -> list[MemoryUser]:
        chosen = list(self._users.values())[offset:]
        return [self._snapshot(u) for u in chosen[: limit if limit is not None else None]]

    def user_count(self) -> int:
        return len(self._users)

    def set_password(self, user_id: str, password: str) -> None:
        self._user(user_id).password = f"plain:{password}"
        self.events.notify(PasswordChangeEvent(user_id))

    def check_password(self, user_id: str, password: str) -> bool:
        return self._user(user_id).password == f"plain:{password}"

    def get_address(self, email: str) -> MemoryAddress | None:
        self.calls.append(f"get_address {email}")
        return self._addresses.get(normalize_email(email))

    def create_address(self, email: str, display_name: str | None = None) -> MemoryAddress:
        key = normalize_email(email)
        if key in self._addresses:
            raise DuplicateAddressError(email)
        self._addresses[key] = MemoryAddress(key, email, display_name)
        return self._addresses[key]

    def get_or_create_address(self, email: str, display_name: str | None = None) -> MemoryAddress:
        self.calls.append(f"get_or_create_address {email}")
        found = self._addresses.get(normalize_email(email))
        return found if found is not None else self.create_address(email, display_name)

    def delete_address(self, email: str) -> None:
        del self._addresses[self._address(email).email]

    def addresses(self, *, offset: int = 0, limit: int | None = None) -> list[MemoryAddress]:
        chosen = sorted(self._addresses.values(), key=lambda a: a.email)[offset:]
        return chosen[: limit if limit is not None else None]

    def address_count(self) -> int:
        return len(self._addresses)

    def addresses_of(self, user_id: str) -> list[MemoryAddress]:
        return [a for a in self._addresses.values() if a.user_id == user_id]

    def link_address(self, user_id: str, email: str) -> MemoryAddress:
        self._user(user_id)
        address = self.get_or_create_address(email)
        if address.user_id not in (None, user_id):
            raise AddressInUseError(email)
        return self._replace(address, user_id=user_id)

    def unlink_address(self, email: str) -> MemoryAddress:
        return self._replace(self._address(email), user_id=None)

    def verify_address(self, email: str) -> MemoryAddress:
        address = self._replace(self._address(email), verified_on=_now())
        self.events.notify(AddressVerifiedEvent(address.email))
        return address

    def unverify_address(self, email: str) -> MemoryAddress:
        return self._replace(self._address(email), verified_on=None)

    def set_preferred_address(self, user_id: str, email: str) -> MemoryUser:
        user, address = self._user(user_id), self._address(email)
        if address.user_id != user_id:
            raise AddressInUseError(email)
        if not address.verified:
            raise UnverifiedAddressError(email)
        user.preferred = address.email
        return self._snapshot(user)

    def clear_preferred_address(self, user_id: str) -> MemoryUser:
        user = self._user(user_id)
        user.preferred = None
        return self._snapshot(user)

    def _set(self, key: str, changes: Mapping[str, Any], replace: bool) -> dict[str, Any]:
        self._preferences[key] = merged(None if replace else self._preferences.get(key), changes)
        return dict(self._preferences[key])

    def user_preferences(self, user_id: str) -> dict[str, Any]:
        return dict(self._preferences.get(self._user(user_id).user_id, {}))

    def set_user_preferences(
        self, user_id: str, changes: Mapping[str, Any], *, replace: bool = False
    ) -> dict[str, Any]:
        return self._set(self._user(user_id).user_id, changes, replace)

    def address_preferences(self, email: str) -> dict[str, Any]:
        return dict(self._preferences.get(self._address(email).email, {}))

    def set_address_preferences(
        self, email: str, changes: Mapping[str, Any], *, replace: bool = False
    ) -> dict[str, Any]:
        return self._set(self._address(email).email, changes, replace)
