"""Errors a person caused and can fix: each carries a message fit to show them.

The CLI prints these without a traceback, the REST API maps them to a status and a JSON
body, the LMTP server to a reply code.  Anything else is a bug and is logged in full.
"""

from __future__ import annotations

__all__ = [
    "AddressInUseError",
    "AlreadyMemberError",
    "BannedAddressError",
    "DuplicateAddressError",
    "DuplicateBanError",
    "DuplicateDomainError",
    "DuplicateHeaderMatchError",
    "DuplicateListError",
    "DuplicateMessageError",
    "DuplicateUserError",
    "InvalidAddressError",
    "InvalidBanError",
    "InvalidHeaderMatchError",
    "InvalidListNameError",
    "InvalidSettingError",
    "NoSuchAddressError",
    "NoSuchBanError",
    "NoSuchDomainError",
    "NoSuchHeaderMatchError",
    "NoSuchListError",
    "NoSuchMemberError",
    "NoSuchMessageError",
    "NoSuchUserError",
    "NotAMemberError",
    "PosthornError",
    "ReadOnlySettingError",
    "UnknownSettingError",
    "UnverifiedAddressError",
]


class PosthornError(Exception):
    """Base of every user-facing error; ``str(error)`` is the message to show."""


# Bad input: the request can never succeed as written (REST 400).


class InvalidAddressError(PosthornError, ValueError):
    """Not an email address (RFC 5322 addr-spec), or one Posthorn refuses to store."""


class InvalidListNameError(PosthornError, ValueError):
    """Not a usable posting address for a mailing list."""


class InvalidSettingError(PosthornError, ValueError):
    """A list or membership setting given a value of the wrong type or outside its choices."""

    def __init__(self, name: str, message: str) -> None:
        self.name = name
        super().__init__(message)


class UnknownSettingError(InvalidSettingError):
    """A list setting that does not exist."""

    def __init__(self, name: str) -> None:
        super().__init__(name, f"unknown list setting: {name}")


class ReadOnlySettingError(InvalidSettingError):
    """A list attribute that Posthorn maintains itself (counters, names, dates)."""

    def __init__(self, name: str) -> None:
        super().__init__(name, f"read-only list attribute: {name}")


class InvalidBanError(PosthornError, ValueError):
    """A ban that is neither an email address nor a ``^pattern`` that compiles."""


class InvalidHeaderMatchError(PosthornError, ValueError):
    """A header match with an empty header, a pattern that does not compile, or an
    unknown action."""


class BannedAddressError(PosthornError):
    """The address is banned from the list (or the whole site)."""


class UnverifiedAddressError(PosthornError):
    """An operation that needs a verified address was given an unverified one."""


# Conflicts with what exists already.


class DuplicateDomainError(PosthornError):
    """A domain with that mail host exists."""


class DuplicateListError(PosthornError):
    """A mailing list with that posting address exists."""


class DuplicateUserError(PosthornError):
    """A user already owns that address."""


class DuplicateAddressError(PosthornError):
    """The address is registered already."""


class AddressInUseError(PosthornError):
    """The address belongs to another user."""


class AlreadyMemberError(PosthornError):
    """The address already holds that role on that list."""


class DuplicateBanError(PosthornError):
    """That exact ban exists already."""


class DuplicateHeaderMatchError(PosthornError):
    """The list has a header match on that header with that pattern already."""


class DuplicateMessageError(PosthornError):
    """Another message with the same Message-ID is in the store already."""


# Things that do not exist (REST 404).


class NoSuchDomainError(PosthornError, LookupError):
    """No domain with that mail host."""


class NoSuchListError(PosthornError, LookupError):
    """No mailing list with that posting address or list-id."""


class NoSuchUserError(PosthornError, LookupError):
    """No user with that id."""


class NoSuchAddressError(PosthornError, LookupError):
    """No registered address like that."""


class NotAMemberError(PosthornError, LookupError):
    """The address does not hold that role on that list."""


class NoSuchMemberError(PosthornError, LookupError):
    """No membership with that member id."""


class NoSuchMessageError(PosthornError, LookupError):
    """No stored or held message with that id."""


class NoSuchBanError(PosthornError, LookupError):
    """No such ban on that list (or on the site)."""


class NoSuchHeaderMatchError(PosthornError, LookupError):
    """No header match at that position."""
