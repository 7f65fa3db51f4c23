"""Who gets a post, and in which batches.

A post goes to the list's regular members whose delivery is enabled, or to exactly
``msgdata["recipients"]`` when that is present (notices, owner posts, retries).  From
the roster the outgoing runner leaves out ``exclude``: the members avoid-duplicates
named in ``msgdata["skip_recipients"]`` and a poster who turned
``receive_own_postings`` off.
Addresses are deduplicated without regard to case.  Bulk batches are sorted by domain
so that an MTA relaying them groups the recipients of one destination.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import Any

from posthorn.interfaces.lists import IListManager, IMailingList

__all__ = ["batches", "recipients_of", "verp_sender"]


def _dedupe(addresses: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    unique = []
    for address in addresses:
        key = address.strip().lower()
        if key and key not in seen:
            seen.add(key)
            unique.append(address.strip())
    return unique


def recipients_of(
    lists: IListManager,
    mlist: IMailingList,
    msgdata: dict[str, Any],
    exclude: Collection[str] = (),
) -> list[str]:
    """Every address this entry is to be delivered to (``exclude``: lowercased)."""
    if "recipients" in msgdata:
        return _dedupe(str(address) for address in msgdata["recipients"])
    members = lists.roster(mlist).regular_members
    return _dedupe(
        m.email
        for m in members
        if m.delivery_status == "enabled" and m.email.lower() not in exclude
    )


def _domain_key(address: str) -> tuple[str, str]:
    local, _, domain = address.rpartition("@")
    return (domain.lower(), local)


def batches(recipients: Sequence[str], size: int) -> Iterator[list[str]]:
    """The recipients sorted by domain, in batches of at most ``size`` (0: one batch)."""
    ordered = sorted(recipients, key=_domain_key)
    size = size if size > 0 else max(len(ordered), 1)
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]


def verp_sender(bounces_address: str, recipient: str) -> str:
    """``list-bounces+user=example.com@host``: a bounce names the member it was for."""
    local, _, host = bounces_address.rpartition("@")
    return f"{local}+{recipient.replace('@', '=')}@{host}"
