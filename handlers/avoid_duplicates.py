"""Leave out members who get the post anyway, or do not want their own posts back.

A member named in To or Cc receives the poster's own copy; with the preference
``receive_list_copy`` off they do not want the list's copy as well.  A poster with
``receive_own_postings`` off gets no copy of their own post (both are GNU Mailman's
names and behaviour).  The handler records those members in
``msgdata["skip_recipients"]``, which the outgoing runner leaves out of the roster.
Explicit ``recipients`` (owner posts, notices) are left alone.
"""

from __future__ import annotations

from email.message import Message
from email.utils import getaddresses
from functools import lru_cache
from typing import Any

from posthorn.delivery.preferences import member_preferences, poster_preferences
from posthorn.handlers.base import Handler
from posthorn.interfaces.lists import IMailingList

__all__ = ["AvoidDuplicates", "addressed"]


def addressed(msg: Message) -> set[str]:
    """Every address named in To and Cc, lowercased."""
    return set(_addresses(tuple(str(v) for name in ("to", "cc") for v in msg.get_all(name, []))))


@lru_cache(maxsize=1024)
def _addresses(values: tuple[str, ...]) -> frozenset[str]:
    # A pure function of the fields' text, which most posts to a list share (To: the
    # list); parsing them took longer than the rest of the handler.
    return frozenset(address.lower() for _, address in getaddresses(values) if "@" in address)


class AvoidDuplicates(Handler):
    name = "avoid-duplicates"
    description = "Skip members in To/Cc who asked for no list copy of such posts."

    def process(self, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]) -> None:
        if "recipients" in msgdata:
            return
        skip = set()
        poster, found = poster_preferences(self.site, mlist, msg, msgdata)
        if found is not None and not found["receive_own_postings"]:
            skip.add(poster)
        for address in addressed(msg) - {mlist.posting_address.lower(), poster}:
            if not self._wants(mlist, address, "receive_list_copy"):
                skip.add(address)
        if skip:
            previous = [str(a).lower() for a in msgdata.get("skip_recipients", [])]
            msgdata["skip_recipients"] = sorted({*previous, *skip})

    def _wants(self, mlist: IMailingList, address: str, name: str) -> bool:
        preferences = member_preferences(self.site, mlist, address)
        return preferences is None or bool(preferences[name])
