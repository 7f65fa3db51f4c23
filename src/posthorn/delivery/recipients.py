"""Who gets a post, and in which batches, read a chunk at a time.

A post goes to the list's members whose delivery is enabled and whose delivery mode is
one of ``msgdata["delivery_modes"]`` (``regular`` unless it says otherwise: a digest
names its modes), or to exactly ``msgdata["recipients"]`` when that is present
(notices, owner posts, retries).  The roster is read ``chunk`` members at a time
(``IRoster.addresses``), so that a post to 100,000 members never holds them all: each
chunk is filtered, split into batches and delivered before the next is read.
From the roster the outgoing runner leaves out ``exclude``: the members avoid-duplicates
named in ``msgdata["skip_recipients"]`` and a poster who turned
``receive_own_postings`` off.
Addresses are deduplicated without regard to case (a roster holds each lowercased
address once).  Batches are sorted by domain within a chunk, so that an MTA relaying
them groups the recipients of one destination.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import Any

from posthorn.interfaces.lists import IListManager, IMailingList

__all__ = ["batches", "recipient_chunks", "verp_sender"]

DEFAULT_MODES = ("regular",)


def _dedupe(addresses: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    unique = []
    for address in addresses:
        key = address.strip().lower()
        if key and key not in seen:
            seen.add(key)
            unique.append(address.strip())
    return unique


def recipient_chunks(
    lists: IListManager,
    mlist: IMailingList,
    msgdata: dict[str, Any],
    chunk: int,
    exclude: Collection[str] = (),
) -> Iterator[list[str]]:
    """The addresses this entry is to be delivered to, at most ``chunk`` at a time
    (``exclude``: lowercased)."""
    if "recipients" in msgdata:
        named = _dedupe(str(address) for address in msgdata["recipients"])
        for start in range(0, len(named), chunk):
            yield named[start : start + chunk]
        return
    modes = tuple(msgdata.get("delivery_modes") or DEFAULT_MODES)
    for addresses in lists.roster(mlist).addresses(modes, chunk):
        kept = [address for address in addresses if address.lower() not in exclude]
        if kept:
            yield kept


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
