"""Who gets a post, and in which batches, read a chunk at a time.

A post goes to the list's members whose delivery is enabled and whose delivery mode is
one of ``msgdata["delivery_modes"]`` (``regular`` unless it says otherwise: a digest
names its modes), or to exactly ``msgdata["recipients"]`` when that is present
(notices, owner posts, retries).  The roster is read ``chunk`` members at a time
(``IRoster.addresses``), so that a post to 100,000 members never holds them all: each
chunk is filtered, split into batches and delivered before the next is read.  With a
cache, a roster of at most ``KEEP_ROSTER`` members is kept whole between posts until
the database changes, and a larger one is known to be larger without reading it.
From the roster the outgoing runner leaves out ``exclude``: the members avoid-duplicates
named in ``msgdata["skip_recipients"]`` and a poster who turned
``receive_own_postings`` off.
Addresses are deduplicated without regard to case (a roster holds each lowercased
address once).  Each chunk comes sorted by domain (a kept roster is sorted whole), so
that an MTA relaying a batch groups the recipients of one destination.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from posthorn.interfaces.lists import IListManager, IMailingList, IRoster

if TYPE_CHECKING:
    from posthorn.database.changes import StampedCache

__all__ = ["KEEP_ROSTER", "batches", "recipient_chunks", "verp_sender"]

DEFAULT_MODES = ("regular",)
#: A roster of at most this many recipients is kept between posts (in domain order) until
#: the database changes; a larger one is read a chunk at a time for each post.
KEEP_ROSTER = 10_000


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
    cache: StampedCache | None = None,
) -> Iterator[list[str]]:
    """The addresses this entry is to be delivered to, at most ``chunk`` at a time, each
    chunk in domain order (``exclude``: lowercased)."""
    if "recipients" in msgdata:
        named = _dedupe(str(address) for address in msgdata["recipients"])
        for start in range(0, len(named), chunk):
            yield sorted(named[start : start + chunk], key=_domain_key)
        return
    modes = tuple(msgdata.get("delivery_modes") or DEFAULT_MODES)
    if cache is not None:
        # The roster is asked for only on a miss: making one checks that the list
        # exists, a statement per post, and a kept answer is dropped when it goes.
        kept = cache.get(
            ("roster", mlist.list_id, modes), lambda: _small(lists.roster(mlist), modes)
        )
        if kept is not None:
            addresses = [a for a in kept if a.lower() not in exclude] if exclude else kept
            for start in range(0, len(addresses), chunk):
                yield list(addresses[start : start + chunk])
            return
    for addresses in lists.roster(mlist).addresses(modes, chunk):
        kept_ = [a for a in addresses if a.lower() not in exclude] if exclude else addresses
        if kept_:
            yield sorted(kept_, key=_domain_key)


def _small(roster: IRoster, modes: tuple[str, ...]) -> tuple[str, ...] | None:
    """The whole roster in domain order, or None when it has more than ``KEEP_ROSTER``
    members (kept too: the next post streams it without asking again).  One statement."""
    first = next(roster.addresses(modes, KEEP_ROSTER + 1), [])
    return None if len(first) > KEEP_ROSTER else tuple(sorted(first, key=_domain_key))


def _domain_key(address: str) -> tuple[str, str]:
    local, _, domain = address.rpartition("@")
    return (domain.lower(), local)


def batches(recipients: Sequence[str], size: int) -> Iterator[list[str]]:
    """The recipients, in the order given, in batches of at most ``size`` (0: one batch)."""
    size = size if size > 0 else max(len(recipients), 1)
    for start in range(0, len(recipients), size):
        yield list(recipients[start : start + size])


def verp_sender(bounces_address: str, recipient: str) -> str:
    """``list-bounces+user=example.com@host``: a bounce names the member it was for."""
    local, _, host = bounces_address.rpartition("@")
    return f"{local}+{recipient.replace('@', '=')}@{host}"
