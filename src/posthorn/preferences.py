"""Delivery preferences: what each one means, how a value is checked, and which one wins.

A preference can be set on a membership, on an address, on a user, and has a site
default; the most specific one set wins (member, then address, then user, then the
site).  The names and values are Mailman's, so front ends written for its REST API
(``…/preferences`` resources) work unchanged.

``delivery_mode`` and ``delivery_status`` are always set on a membership (they are its
columns), so for a member they never fall through to the address or the user; those
two only matter there as the values a new subscription could start from.

Delivery code asks ``effective_preferences(site, member)`` (or ``effective_preference``
for one name); each call reads the member, its address and its user once.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from posthorn.errors import InvalidSettingError
from posthorn.interfaces.lists import DeliveryMode, DeliveryStatus

if TYPE_CHECKING:
    from posthorn.config import Config
    from posthorn.interfaces.lists import IMember
    from posthorn.site import Site

__all__ = [
    "MEMBER_COLUMNS",
    "PREFERENCES",
    "check_preferences",
    "effective_preference",
    "effective_preferences",
    "merged",
    "system_preferences",
]


def _bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidSettingError(name, f"{name} must be true or false")
    return value


def _language(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value or len(value) > 16:
        raise InvalidSettingError(name, f"{name} must be a language code such as 'en'")
    return value


def _choice(kind: Any) -> Callable[[str, Any], str]:
    choices = typing.get_args(kind)

    def check(name: str, value: Any) -> str:
        if value not in choices:
            raise InvalidSettingError(name, f"{name} must be one of: {', '.join(choices)}")
        return str(value)

    return check


# Every preference and the check its value must pass, in Mailman's order.
PREFERENCES: Mapping[str, Callable[[str, Any], Any]] = {
    "acknowledge_posts": _bool,
    "delivery_mode": _choice(DeliveryMode),
    "delivery_status": _choice(DeliveryStatus),
    "hide_address": _bool,
    "preferred_language": _language,
    "receive_list_copy": _bool,
    "receive_own_postings": _bool,
}

# Kept as a membership's own columns rather than among its stored preferences.
MEMBER_COLUMNS = frozenset({"delivery_mode", "delivery_status"})

_DEFAULTS: Mapping[str, Any] = {
    "acknowledge_posts": False,
    "delivery_mode": "regular",
    "delivery_status": "enabled",
    "hide_address": True,
    "receive_list_copy": True,
    "receive_own_postings": True,
}


def check_preferences(given: Mapping[str, Any]) -> dict[str, Any]:
    """The checked values; None stands for "not set" and is kept, so it can clear one."""
    checked: dict[str, Any] = {}
    for name, value in given.items():
        check = PREFERENCES.get(name)
        if check is None:
            raise InvalidSettingError(name, f"unknown preference: {name}")
        checked[name] = None if value is None else check(name, value)
    return checked


def merged(stored: Mapping[str, Any] | None, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Stored preferences with checked changes applied; a None change removes the key."""
    result = dict(stored or {})
    for name, value in check_preferences(changes).items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = value
    return result


def system_preferences(config: Config) -> dict[str, Any]:
    """The site defaults: every preference has one."""
    defaults = dict(_DEFAULTS)
    defaults["preferred_language"] = config["posthorn"].get_str("default_language")
    return dict(sorted(defaults.items()))


def effective_preferences(site: Site, member: IMember) -> dict[str, Any]:
    """Every preference as it applies to ``member``: member, address, user, site."""
    result = system_preferences(site.config)
    address = site.users.get_address(member.email)
    user_id = member.user_id or (address.user_id if address is not None else None)
    if user_id is not None and site.users.get_user(user_id) is not None:
        result.update(site.users.user_preferences(user_id))
    if address is not None:
        result.update(site.users.address_preferences(member.email))
    result.update(site.lists.member_preferences(member.member_id))
    return result


def effective_preference(site: Site, member: IMember, name: str) -> Any:
    """One preference of ``member`` (see ``effective_preferences``)."""
    if name not in PREFERENCES:
        raise InvalidSettingError(name, f"unknown preference: {name}")
    return effective_preferences(site, member)[name]
