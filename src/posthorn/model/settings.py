"""Checking list settings, and their values apart from a list.

The settings are declared once, in ``posthorn.interfaces.settings.IListSettings``;
this module derives from that declaration what every writer -- REST, the command line,
an importer -- needs: ``check_settings`` validates a change against the declared types
and kinds of text, ``READ_ONLY`` names what a list has that no one sets, and
``ListSettings`` holds settings' values (a new list's defaults).
"""

from __future__ import annotations

import dataclasses
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from posthorn.config.types import parse_duration
from posthorn.errors import InvalidSettingError, ReadOnlySettingError, UnknownSettingError
from posthorn.interfaces.lists import IMailingList
from posthorn.interfaces.settings import IListSettings, TextKind
from posthorn.messages.oneline import CONTROL

__all__ = [
    "FOR_FRONT_ENDS",
    "READ_ONLY",
    "UNSUPPORTED",
    "ListSettings",
    "check_settings",
    "setting_types",
]

# Attributes a list has that no one sets directly (REST answers "Read-only attribute"):
# what IMailingList adds to the settings.
READ_ONLY = frozenset(
    name for name, member in vars(IMailingList).items() if isinstance(member, property)
)

# Settings Mailman has and Posthorn cannot act on: only their default is accepted, so
# a list never claims to do what it does not (a tests/test_conventions.py check: every
# setting is read by the code, or listed here or in FOR_FRONT_ENDS).
# None at present: the news gateway settings are acted on by runners/nntp.py.
UNSUPPORTED: Mapping[str, str] = {}
# Settings only front ends read (through REST): stored and served, not acted on here.
FOR_FRONT_ENDS: Mapping[str, str] = {
    "archive_rendering_mode": "HyperKitty shows archived posts as text or markdown by it",
}

# A header folds only between words, and a line may not pass 998 octets on the wire.
HEADER_WORD = 500
_LINE_ENDS = re.compile(r"\r\n?")
_BODY_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True, kw_only=True)
class ListSettings(IListSettings):
    """Settings' values apart from a list: a new list's defaults, a list's base class."""

    @classmethod
    def for_list(cls, list_name: str) -> ListSettings:
        """The defaults for a new list, as Mailman derives them from its name."""
        display_name = list_name.capitalize()
        return cls(display_name=display_name, subject_prefix=f"[{display_name}] ")

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe values (tuples as lists), keyed by setting name."""
        return {
            name: list(value) if isinstance(value, tuple) else value
            for name, value in ((f.name, getattr(self, f.name)) for f in dataclasses.fields(self))
        }


@cache
def setting_types() -> Mapping[str, Any]:
    """Setting name to its declared type, e.g. ``bool`` or ``Literal['hold', ...]``."""
    return typing.get_type_hints(ListSettings)


@cache
def text_kinds() -> Mapping[str, str]:
    """Setting name to its kind of text (``body``, ``duration``) where not one line."""
    hints = typing.get_type_hints(ListSettings, include_extras=True)
    return {
        name: mark.name
        for name, hint in hints.items()
        for mark in getattr(hint, "__metadata__", ())
        if isinstance(mark, TextKind)
    }


def _check(name: str, hint: Any, value: Any) -> Any:
    """The value as stored, or InvalidSettingError naming what was expected."""
    if typing.get_origin(hint) is Literal:
        choices = typing.get_args(hint)
        if value not in choices:
            raise InvalidSettingError(name, f"{name} must be one of: {', '.join(choices)}")
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise InvalidSettingError(name, f"{name} must be true or false")
        return value
    if hint in (int, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidSettingError(name, f"{name} must be a number")
        if hint is int and not isinstance(value, int):
            raise InvalidSettingError(name, f"{name} must be a whole number")
        if value < 0:
            raise InvalidSettingError(name, f"{name} cannot be negative")
        return hint(value)
    if hint == tuple[str, ...]:
        if isinstance(value, str) or not all(isinstance(item, str) for item in value):
            raise InvalidSettingError(name, f"{name} must be a list of strings")
        return tuple(_text(name, item) for item in value)
    if value is None and hint == (str | None):
        return None
    if not isinstance(value, str):
        raise InvalidSettingError(name, f"{name} must be a string")
    value = _text(name, value)
    if text_kinds().get(name) == "duration":
        try:
            parse_duration(value)
        except ValueError as error:
            raise InvalidSettingError(name, f"{name}: {error}") from None
    return value


def _text(name: str, value: str) -> str:
    """A text setting as stored: one line, or for a body text, lines ending in LF."""
    if text_kinds().get(name) == "body":
        value = _LINE_ENDS.sub("\n", value)
        if _BODY_CONTROL.search(value):
            raise InvalidSettingError(
                name, f"{name} cannot contain control characters (other than line breaks)"
            )
        return value
    found = CONTROL.search(value)
    if found:
        what = {"\r": "CR", "\n": "LF", "\t": "TAB"}.get(
            found.group(), f"U+{ord(found.group()):04X}"
        )
        raise InvalidSettingError(
            name, f"{name} must be one line: it cannot contain control characters ({what})"
        )
    if any(len(word) > HEADER_WORD for word in value.split()):
        raise InvalidSettingError(
            name, f"{name} cannot hold a word longer than {HEADER_WORD} characters"
        )
    return value


def check_settings(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Validate every change before any is applied, so an update is all or nothing."""
    types = setting_types()
    checked: dict[str, Any] = {}
    for name, value in changes.items():
        if name in READ_ONLY:
            raise ReadOnlySettingError(name)
        if name not in types:
            raise UnknownSettingError(name)
        try:
            checked[name] = _check(name, types[name], value)
        except TypeError:
            raise InvalidSettingError(name, f"{name}: {value!r} has the wrong type") from None
        if name in UNSUPPORTED and checked[name] != _defaults()[name]:
            raise InvalidSettingError(
                name, f"{name} cannot be changed: {UNSUPPORTED[name]} "
                f"(only {_defaults()[name]!r} is accepted)",
            )  # fmt: skip
    return checked


@cache
def _defaults() -> Mapping[str, Any]:
    return ListSettings().as_dict()
