"""Who sent a post, decided strictly enough that a forged From cannot pass as a member.

Python's ``email.utils`` before the CVE-2023-27043 fix (3.11.7 among them) can read
``"alice@example.org" <mallory@evil.example>``-style headers, comments and encoded
words differently from a mail client, so one header may name a member to Posthorn and
a stranger to the reader.  Here a From counts only when two independent parsers
(``email.utils.getaddresses`` in strict mode and ``email.headerregistry`` under
``policy.default``) each find exactly one address, the same one, with no encoded word
and no comment in it and a valid addr-spec.  Anything else is "no identifiable
sender", which the rules treat as a non-member.
"""

from __future__ import annotations

import functools
import re
from email import policy
from email.errors import HeaderParseError
from email.headerregistry import AddressHeader
from email.message import Message
from email.utils import getaddresses

from posthorn.address import normalize_email
from posthorn.errors import InvalidAddressError

__all__ = ["from_header", "sender_address"]

_ENCODED_WORD = re.compile(r"=\?[^?]*\?[bBqQ]\?", re.ASCII)


def from_header(msg: Message) -> str | None:
    """The one From header as text, or None when there is none or more than one."""
    values = msg.get_all("from") or []
    if len(values) != 1:
        return None
    return str(values[0])


def _registry_addresses(text: str) -> list[str]:
    """The addr-specs ``policy.default`` finds, or none when it cannot parse the header."""
    try:
        header = policy.default.header_factory("From", text)
    except (HeaderParseError, IndexError, ValueError, TypeError):
        return []
    if not isinstance(header, AddressHeader) or bool(getattr(header, "defects", None)):
        return []
    return [address.addr_spec for address in header.addresses]


def _utils_addresses(text: str) -> list[str]:
    # ``strict`` appeared with the CVE fix; older versions have no such argument and
    # are the reason the second parser exists at all.
    try:
        pairs = getaddresses([text], strict=True)  # type: ignore[call-arg,unused-ignore]
    except TypeError:
        pairs = getaddresses([text])
    return [address for _, address in pairs if address]


def sender_address(msg: Message) -> str | None:
    """The lowercased address of the post's one unambiguous author, or None."""
    text = from_header(msg)
    if text is None:
        return None
    # A pure function of the header's text, and the two parsers cost a third of a rule
    # decision; a list's regular posters send the same From again and again.  Only
    # texts of ordinary length are kept, so the cache stays small whatever arrives.
    return _cached_sender(text) if len(text) <= CACHED_TEXT else _sender_of(text)


# Characters of the longest From text kept by the cache, and how many texts it keeps.
CACHED_TEXT = 512
CACHED_SENDERS = 4096


def _sender_of(text: str) -> str | None:
    if "(" in text:
        # Comments are where the parsers disagree most; no honest mailer needs one.
        return None
    utils = _utils_addresses(text)
    registry = _registry_addresses(text)
    if len(utils) != 1 or len(registry) != 1:
        return None
    candidate = utils[0]
    if candidate.lower() != registry[0].lower() or _ENCODED_WORD.search(candidate):
        return None
    if text.count("@") != 1:
        # A second "@" (an address in the display name, a quoted local part holding
        # one) is how a header shows one address to a reader and another to a parser.
        return None
    try:
        return normalize_email(candidate)
    except InvalidAddressError:
        return None


_cached_sender = functools.lru_cache(maxsize=CACHED_SENDERS)(_sender_of)
