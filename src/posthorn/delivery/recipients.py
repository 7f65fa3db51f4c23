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
from typing import TYPE_CHECKING, Any

from posthorn.interfaces.lists import IListManager, IMailingList

if TYPE_CHECKING:
    from posthorn.database.changes import StampedCache

__all__ = ["KEEP_ROSTER", "batches", "recipients_of", "verp_sender"]

#: A roster of at most this many recipients is kept between posts (in domain order) until
#: the database changes; a larger one is read afresh for each post.
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


def recipients_of(
    lists: IListManager,
    mlist: IMailingList,
    msgdata: dict[str, Any],
    exclude: Collection[str] = (),
    cache: StampedCache | None = None,
) -> list[str]:
    """Every address this entry is to be delivered to (``exclude``: lowercased).

    With ``cache``, the roster comes in domain order, as ``batches`` sorts it, and a
    small one is kept there until the database changes.
    """
    if "recipients" in msgdata:
        return _dedupe(str(address) for address in msgdata["recipients"])
    if cache is not None:
        ordered = cache.get(
            ("roster", mlist.list_id),
            lambda: sorted(recipients_of(lists, mlist, {}), key=_domain_key),
            keep=lambda roster: len(roster) <= KEEP_ROSTER,
        )
        return [a for a in ordered if a.lower() not in exclude] if exclude else list(ordered)
    members = lists.roster(mlist).regular_members
    return _dedupe(
        m.email
        for m in members
        if m.delivery_status == "enabled" and m.email.lower() not in exclude
    )


def _domain_key(address: str) -> tuple[str, str]:
    local, _, domain = address.rpartition("@")
    return (domain.lower(), local)


def batches(recipients: Sequence[str], size: int, *, ordered: bool = False) -> Iterator[list[str]]:
    """The recipients sorted by domain, in batches of at most ``size`` (0: one batch).

    ``ordered``: they come sorted already (``recipients_of`` with a cache).
    """
    ordered_ = recipients if ordered else sorted(recipients, key=_domain_key)
    size = size if size > 0 else max(len(ordered_), 1)
    for start in range(0, len(ordered_), size):
        yield list(ordered_[start : start + size])


def verp_sender(bounces_address: str, recipient: str) -> str:
    """``list-bounces+user=example.com@host``: a bounce names the member it was for."""
    local, _, host = bounces_address.rpartition("@")
    return f"{local}+{recipient.replace('@', '=')}@{host}"
