"""banned-address: the sender is banned from this list or from the whole site.

Bans are ``[ACTION:]ADDRESS`` or ``[ACTION:]^REGEX`` strings: the list's
``ban_list`` setting and the site's ``[posting] banned_addresses``.  ACTION is one of
accept, hold, reject, discard and defaults to reject.  The list's bans are checked
first.  A post without an identifiable sender is checked by its envelope sender.
"""

from __future__ import annotations

from collections.abc import Iterable
from email.message import Message
from typing import Any

from posthorn.interfaces.lists import IMailingList
from posthorn.rules import ACTIONS, Rule, add_reason, matches_address, sender_of, set_action


def parse_ban(entry: str) -> tuple[str, str]:
    """``discard:^.*@spam\\.example$`` -> ("discard", "^.*@spam\\.example$")."""
    action, sep, pattern = entry.partition(":")
    if sep and action.strip().lower() in ACTIONS and action.strip().lower() != "defer":
        return action.strip().lower(), pattern.strip()
    return "reject", entry.strip()


def find_ban(address: str, bans: Iterable[str]) -> str | None:
    """The action of the first ban matching the address, or None."""
    for entry in bans:
        action, pattern = parse_ban(entry)
        if matches_address(address, [pattern]):
            return action
    return None


class BannedAddress(Rule):
    name = "banned-address"
    description = "The sender is banned from posting to this list or this site."
    action = "reject"

    def check(self, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]) -> bool:
        address = sender_of(msg) or str(msgdata.get("envelope_sender") or "")
        if not address:
            return False
        site_bans = self.site.config["posting"].get_list("banned_addresses")
        action = find_ban(address, mlist.ban_list) or find_ban(address, site_bans)
        if action is None:
            return False
        set_action(msgdata, action)
        add_reason(msgdata, f"{address} is banned from posting to {mlist.posting_address}")
        return True
