"""Email addresses and list names: what Posthorn accepts, and how it compares them.

An address is checked against the RFC 5322 addr-spec (a dot-atom or quoted local part,
``@``, a domain with at least one dot or a bracketed literal), with UTF-8 allowed as in
RFC 6532.  Posthorn is stricter than the RFC where the RFC invites trouble: no
whitespace or control characters anywhere (not even quoted, as in GNU Mailman), no
comments, and DNS-shaped domain labels.  Addresses are compared lowercased; the
original spelling is kept by the user manager for display.

List names are stricter still, because they become directory and file names (archives,
queues, templates): lowercase, Mailman's list-name characters, no path separators.
"""

from __future__ import annotations

import ipaddress
import re
from typing import NamedTuple

from posthorn.errors import InvalidAddressError, InvalidListNameError

__all__ = [
    "ListName",
    "normalize_email",
    "parse_display_address",
    "split_email",
    "validate_domain",
    "validate_email",
    "validate_list_name",
]

_ATEXT = "!#$%&'*+-/=?^_`{|}~"
_LIST_CHARS = re.compile(r"^[-_.+=!$*{}~0-9a-z]+$")
_MAX_LOCAL = 64
_MAX_DOMAIN = 253
_MAX_ADDRESS = 254
_MAX_LABEL = 63


class ListName(NamedTuple):
    """A validated list posting address, split; ``list_id`` is the RFC 2919 id."""

    list_name: str
    mail_host: str

    @property
    def fqdn_listname(self) -> str:
        return f"{self.list_name}@{self.mail_host}"

    @property
    def list_id(self) -> str:
        return f"{self.list_name}.{self.mail_host}"


def _is_forbidden(char: str) -> bool:
    """Whitespace and control characters (C0, DEL, C1) are never part of an address."""
    code = ord(char)
    return char.isspace() or code < 32 or 127 <= code < 160


def _is_atext(char: str) -> bool:
    return (char.isascii() and (char.isalnum() or char in _ATEXT)) or ord(char) >= 160


def _check_dot_atom(text: str, what: str, address: str) -> None:
    if text.startswith(".") or text.endswith(".") or ".." in text:
        raise InvalidAddressError(
            f"{address!r}: the {what} cannot start or end with a dot or hold '..'"
        )
    bad = sorted({char for char in text if char != "." and not _is_atext(char)})
    if bad:
        raise InvalidAddressError(f"{address!r}: the {what} contains {''.join(bad)!r}")


def _check_quoted(local: str, address: str) -> None:
    body = local[1:-1]
    index = 0
    while index < len(body):
        char = body[index]
        if char == "\\":
            index += 1
            if index == len(body):
                raise InvalidAddressError(f"{address!r}: unfinished escape in quoted local part")
        elif char == '"':
            raise InvalidAddressError(f"{address!r}: unescaped quote in quoted local part")
        index += 1


def _check_literal(domain: str, address: str) -> None:
    inner = domain[1:-1]
    try:
        if inner[:5].lower() == "ipv6:":
            ipaddress.IPv6Address(inner[5:])
        else:
            ipaddress.IPv4Address(inner)
    except ValueError:
        raise InvalidAddressError(f"{address!r}: {domain} is not an IP address literal") from None


def validate_domain(domain: str, address: str | None = None) -> str:
    """Return the domain lowercased, or raise InvalidAddressError saying what is wrong."""
    shown = domain if address is None else address
    if not domain:
        raise InvalidAddressError(f"{shown!r}: the domain is empty")
    if any(_is_forbidden(char) for char in domain):
        raise InvalidAddressError(f"{shown!r}: whitespace or control characters in the domain")
    if len(domain) > _MAX_DOMAIN:
        raise InvalidAddressError(f"{shown!r}: the domain is longer than {_MAX_DOMAIN} characters")
    labels = domain.split(".")
    if len(labels) < 2:
        raise InvalidAddressError(f"{shown!r}: the domain needs at least one dot")
    for label in labels:
        if not label:
            raise InvalidAddressError(f"{shown!r}: the domain has an empty label")
        if len(label) > _MAX_LABEL or label[0] == "-" or label[-1] == "-":
            raise InvalidAddressError(f"{shown!r}: {label!r} is not a valid domain label")
        if not all(char.isalnum() or char == "-" for char in label):
            raise InvalidAddressError(f"{shown!r}: {label!r} is not a valid domain label")
    if labels[-1].isdigit():
        raise InvalidAddressError(f"{shown!r}: the top-level domain cannot be a number")
    return domain.lower()


def split_email(address: str) -> tuple[str, str]:
    """Local part and domain, split at the last ``@`` (a quoted local part may hold one)."""
    local, at, domain = address.rpartition("@")
    if not at:
        raise InvalidAddressError(f"{address!r}: no @domain")
    return local, domain


def validate_email(address: str) -> str:
    """Return ``address`` unchanged if it is an acceptable addr-spec, else raise."""
    if not isinstance(address, str) or not address:
        raise InvalidAddressError("the address is empty")
    if any(_is_forbidden(char) for char in address):
        raise InvalidAddressError(f"{address!r}: whitespace or control characters")
    if len(address) > _MAX_ADDRESS:
        raise InvalidAddressError(f"{address!r}: longer than {_MAX_ADDRESS} characters")
    local, domain = split_email(address)
    if not local:
        raise InvalidAddressError(f"{address!r}: the local part is empty")
    if len(local) > _MAX_LOCAL:
        raise InvalidAddressError(f"{address!r}: the local part is longer than {_MAX_LOCAL}")
    if len(local) >= 2 and local[0] == local[-1] == '"':
        _check_quoted(local, address)
    else:
        _check_dot_atom(local, "local part", address)
    if domain.startswith("[") and domain.endswith("]"):
        _check_literal(domain, address)
    else:
        validate_domain(domain, address)
    return address


def normalize_email(address: str) -> str:
    """The form addresses are stored and compared in: validated, then lowercased."""
    return validate_email(address).lower()


def validate_list_name(fqdn_listname: str) -> ListName:
    """Split and check a list posting address such as ``dev@example.org``."""
    text = fqdn_listname.strip() if isinstance(fqdn_listname, str) else ""
    if not text or text != fqdn_listname:
        raise InvalidListNameError(f"{fqdn_listname!r}: not a list posting address")
    # Checked first: the name becomes a directory name, so say exactly why it cannot.
    if "/" in text.rpartition("@")[0] or "\\" in text.rpartition("@")[0]:
        raise InvalidListNameError(f"{fqdn_listname!r}: a list name cannot hold a path separator")
    try:
        validate_email(text)
    except InvalidAddressError as error:
        raise InvalidListNameError(f"invalid list posting address: {error}") from None
    local, domain = split_email(text.lower())
    if not _LIST_CHARS.match(local):
        raise InvalidListNameError(
            f"{fqdn_listname!r}: a list name may only use a-z, 0-9 and -_.+=!$*{{}}~"
        )
    if domain.startswith("["):
        raise InvalidListNameError(f"{fqdn_listname!r}: a list needs a domain name, not a literal")
    return ListName(local, domain)


def parse_display_address(text: str) -> tuple[str | None, str]:
    """Split ``Name <addr>`` (or a bare ``addr``) and validate the address part."""
    line = text.strip()
    name: str | None = None
    if line.endswith(">") and "<" in line:
        head, _, rest = line.rpartition("<")
        line = rest[:-1].strip()
        name = head.strip().strip('"').strip() or None
    return name, validate_email(line)
