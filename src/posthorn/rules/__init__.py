"""The built-in rules, one per module, and the little they share.

Each module defines one rule class; the registry's ``rule`` table names them.  A rule
is built with the Site (``RuleClass(site)``) once per posting chain, so it may keep
caches (the DMARC rule keeps its DNS cache) for the runner's life.
"""

from __future__ import annotations

import re
from email.message import Message
from typing import TYPE_CHECKING, Any, ClassVar

from posthorn.interfaces.lists import IMailingList

if TYPE_CHECKING:
    from posthorn.site import Site

__all__ = ["ACTIONS", "Rule", "add_reason", "matches_address", "set_action"]

ACTIONS = ("accept", "hold", "reject", "discard", "defer")


class Rule:
    """Base for the built-in rules: keeps the site; subclasses set the class attributes."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    action: ClassVar[str] = "hold"
    record: ClassVar[bool] = True

    def __init__(self, site: Site) -> None:
        self.site = site

    def check(self, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]) -> bool:
        raise NotImplementedError


def add_reason(msgdata: dict[str, Any], reason: str) -> None:
    """Keep why a post was moderated, for the held record and the notices."""
    msgdata.setdefault("moderation_reasons", []).append(reason)


def set_action(msgdata: dict[str, Any], action: str) -> None:
    """Tell the posting chain what this hit means, overriding the rule's ``action``."""
    msgdata["moderation_action"] = action


def matches_address(address: str | None, patterns: Any) -> bool:
    """True if the address equals a pattern, or matches one that starts with ``^``.

    A pattern that is not a valid regular expression never matches (it cannot have
    been meant to match everything).
    """
    if not address:
        return False
    for pattern in patterns:
        text = str(pattern).strip()
        if text.startswith("^"):
            try:
                if re.match(text, address, re.IGNORECASE):
                    return True
            except re.error:
                continue
        elif text.lower() == address.lower():
            return True
    return False
