"""Recipient addresses: which list, which sub-address, which queue, and what metadata.

Posthorn follows GNU Mailman's LMTP conventions, so MTA set-ups and habits carry over:

- ``LIST@DOMAIN`` is the posting address (queue ``incoming``, ``to_list``);
- ``LIST-owner@DOMAIN`` reaches the owners (queue ``incoming``, ``to_owner``);
- ``LIST-bounces@DOMAIN`` takes bounces (queue ``bounce``); ``LIST-bounces+DATA@`` is
  a VERP address, DATA being the bounced member's address with ``@`` written ``=``;
- ``LIST-request``, ``-join``, ``-subscribe``, ``-leave``, ``-unsubscribe`` and
  ``-confirm`` (``-confirm+TOKEN@`` carries a confirmation token) go to queue
  ``command``.

Everything after the first ``+`` of the local part is "extra" data, as with Postfix's
``recipient_delimiter = +``.  It is kept for ``-bounces`` (``verp``) and ``-confirm``
(``token``) and ignored elsewhere, so ``dev+tag@example.org`` simply posts to dev.

As in Mailman, a suffix always wins: ``dev-owner@`` is the owner address of ``dev``,
never a list named ``dev-owner``.  List and domain are compared case-insensitively;
the extra data keeps its case (tokens and VERP local parts may be case-sensitive).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from posthorn.errors import PosthornError

__all__ = [
    "SUBADDRESSES",
    "InvalidRecipient",
    "Recipient",
    "decode_verp",
    "parse_recipient",
]

EXTRA_DELIMITER = "+"
SUFFIX_DELIMITER = "-"


@dataclass(frozen=True)
class Route:
    """Where one kind of recipient goes and the flags its queue entry carries."""

    queue: str
    flags: tuple[tuple[str, bool], ...]


# The sub-address names and their routes.  The flags are Mailman's, so a command or
# bounce processor written with Mailman's metadata in mind reads them unchanged.
SUBADDRESSES: dict[str, Route] = {
    "bounces": Route("bounce", ()),
    "confirm": Route("command", (("to_confirm", True),)),
    "join": Route("command", (("to_join", True),)),
    "leave": Route("command", (("to_leave", True),)),
    "owner": Route("incoming", (("to_owner", True),)),
    "request": Route("command", (("to_request", True),)),
    "subscribe": Route("command", (("to_join", True),)),
    "unsubscribe": Route("command", (("to_leave", True),)),
}
POSTING = Route("incoming", (("to_list", True),))


class InvalidRecipient(PosthornError):
    """An address that cannot be one of ours whatever lists exist (no @, empty parts)."""


@dataclass(frozen=True)
class Recipient:
    """One LMTP recipient, split into the list it names and the service it asks for."""

    address: str
    list_name: str
    domain: str
    subaddress: str | None
    extra: str | None

    @property
    def fqdn_listname(self) -> str:
        """The list's posting address, the key the list manager looks up."""
        return f"{self.list_name}@{self.domain}"

    @property
    def route(self) -> Route:
        return POSTING if self.subaddress is None else SUBADDRESSES[self.subaddress]

    @property
    def queue(self) -> str:
        return self.route.queue

    def msgdata(self) -> dict[str, Any]:
        """The routing part of this recipient's queue metadata (built-in types only)."""
        data: dict[str, Any] = dict(self.route.flags)
        data["subaddress"] = self.subaddress
        data["original_recipient"] = self.address
        if self.subaddress == "bounces" and self.extra:
            data["verp"] = self.extra
            member = decode_verp(self.extra)
            if member is not None:
                data["verp_recipient"] = member
        elif self.subaddress == "confirm" and self.extra:
            data["token"] = self.extra
        return data


def decode_verp(extra: str) -> str | None:
    """``alice=example.org`` -> ``alice@example.org``, or None if it is not VERP data.

    The last ``=`` is the at-sign: a domain never contains ``=`` but a local part may.
    """
    local, sep, domain = extra.rpartition("=")
    if not sep or not local or not domain:
        return None
    return f"{local}@{domain}"


def parse_recipient(address: str) -> Recipient:
    """Split an RCPT address; raise InvalidRecipient if it cannot name any list."""
    bare = address.strip()
    if bare.startswith("<") and bare.endswith(">"):
        bare = bare[1:-1]
    local, at, domain = bare.rpartition("@")
    if not at or not local or not domain or '"' in local:
        raise InvalidRecipient(f"not a list address: {address}")
    local, plus, extra = local.partition(EXTRA_DELIMITER)
    base, dash, suffix = local.lower().rpartition(SUFFIX_DELIMITER)
    if dash and base and suffix in SUBADDRESSES:
        list_name, subaddress = base, suffix
    else:
        list_name, subaddress = local.lower(), None
    if not list_name:
        raise InvalidRecipient(f"not a list address: {address}")
    return Recipient(
        address=bare,
        list_name=list_name,
        domain=domain.lower(),
        subaddress=subaddress,
        extra=extra if plus else None,
    )
