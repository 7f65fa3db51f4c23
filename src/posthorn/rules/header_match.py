"""header-match: the administrator's header checks, each with its own action.

The list's ``header_matches`` entries are ``HEADER:ACTION:REGEX`` (for example
``X-Spam-Flag:discard:^yes``); ACTION is accept, hold, reject or discard.  The first
entry that matches decides.  Unreadable entries are skipped.
"""

from __future__ import annotations

from email.message import Message
from typing import Any

from posthorn.interfaces.lists import IMailingList
from posthorn.rules import ACTIONS, Rule, add_reason, set_action
from posthorn.rules.suspicious_header import header_matches


def parse_entry(entry: str) -> tuple[str, str, str] | None:
    header, _, rest = entry.partition(":")
    action, sep, pattern = rest.partition(":")
    action = action.strip().lower()
    if not sep or not header.strip() or action not in ACTIONS or action == "defer":
        return None
    return header.strip(), action, pattern.strip()


class HeaderMatch(Rule):
    name = "header-match"
    description = "A header matches one of the list's header checks."
    action = "hold"

    def check(self, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]) -> bool:
        for entry in mlist.header_matches:
            parsed = parse_entry(entry)
            if parsed is None:
                continue
            header, action, pattern = parsed
            if header_matches(msg, header, pattern):
                set_action(msgdata, action)
                add_reason(msgdata, f"The message matches a header check on {header}")
                return True
        return False
