"""The delivery preferences of whoever a post is from or addressed to, by address.

The pipeline knows addresses (From, To, Cc), while preferences belong to memberships,
addresses and users (``posthorn.preferences`` says which wins).  An address that is
not a member of the list has no say in its delivery, so it gets None.  Several
handlers ask about the poster; ``poster_preferences`` asks the database once per run
and keeps the answer in ``msgdata["poster_preferences"]``, which to-outgoing drops.
"""

from __future__ import annotations

from email.message import Message
from typing import TYPE_CHECKING, Any

from posthorn.messages.notices import poster_of
from posthorn.preferences import effective_preferences

if TYPE_CHECKING:
    from posthorn.interfaces.lists import IMailingList
    from posthorn.site import Site

__all__ = ["member_preferences", "poster_preferences"]


def member_preferences(site: Site, mlist: IMailingList, email: str) -> dict[str, Any] | None:
    """Every preference as it applies to ``email`` on ``mlist``; None for a non-member."""
    found = site.cache.get(
        ("preferences", mlist.list_id, email.lower()), lambda: _lookup(site, mlist, email)
    )
    return None if found is None else dict(found)


def _lookup(site: Site, mlist: IMailingList, email: str) -> dict[str, Any] | None:
    # One query on the member rows; ``roster(mlist)`` would first re-check that the
    # list exists, which the runner that found ``mlist`` already knows.
    found = site.lists.find_members(list_id=mlist.list_id, email=email.lower(), role="member")
    if not found:
        return None
    return effective_preferences(site, found[0])


def poster_preferences(
    site: Site, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]
) -> tuple[str, dict[str, Any] | None]:
    """The poster's address and preferences (None: not a member), looked up once."""
    poster = poster_of(msg, msgdata)
    cached = msgdata.get("poster_preferences")
    if isinstance(cached, dict) and cached.get("email") == poster:
        return poster, cached.get("preferences")
    found = member_preferences(site, mlist, poster) if poster else None
    msgdata["poster_preferences"] = {"email": poster, "preferences": found}
    return poster, found
