"""implicit-destination: the list is not named in To or Cc (a Bcc, or a stray alias).

Mail that reached the list without naming it is a favourite of spammers; the list's
``acceptable_aliases`` (exact or ``^regex``) count as naming it.  Off when the list's
``require_explicit_destination`` is false.
"""

from __future__ import annotations

from email.message import Message
from email.utils import getaddresses
from typing import Any

from posthorn.i18n import _
from posthorn.interfaces.lists import IMailingList
from posthorn.rules import Rule, add_reason, matches_address, memoized


def destinations(msg: Message) -> list[str]:
    """Every address in To and Cc, lowercased."""
    values = [str(v) for h in ("to", "cc") for v in msg.get_all(h) or []]
    # Two rules ask (this one and max-recipients); the fields are parsed once per
    # decision, keyed by their text, so a changed field would be parsed afresh.
    found = memoized(("destinations", *values), lambda: _addresses(values))
    return list(found)


def _addresses(values: list[str]) -> tuple[str, ...]:
    return tuple(address.lower() for _name, address in getaddresses(values) if address)


class ImplicitDestination(Rule):
    name = "implicit-destination"
    description = "The post does not name the list in To or Cc."
    action = "hold"

    def check(self, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]) -> bool:
        if not mlist.require_explicit_destination:
            return False
        names = {mlist.posting_address.lower(), mlist.fqdn_listname.lower()}
        for address in destinations(msg):
            if address in names or matches_address(address, mlist.acceptable_aliases):
                return False
        add_reason(msgdata, _("The message does not name the list in To or Cc"))
        return True
