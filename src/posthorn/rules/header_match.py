"""header-match: the list's header matches, in their order; the first hit decides.

Each match (``model/header_matches.py``; managed with ``posthorn header-matches`` or the
REST ``header-matches`` resource) searches one header's every value for its pattern,
without regard to case.  A hit goes where the match's action says (accept, hold,
reject, discard, defer); a match without an action takes this rule's action, hold
unless the chain's ``header-match=ACTION`` says otherwise.  The rule runs right after
member-moderation, as in Mailman 3.1, so a member whose moderation action is accept
skips it.  A pattern that no longer compiles never matches.
"""

from __future__ import annotations

import re
from email.message import Message
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from posthorn.i18n import _
from posthorn.interfaces.lists import IMailingList
from posthorn.model.header_matches import DatabaseHeaderMatches
from posthorn.rules import Rule, add_reason, set_action

if TYPE_CHECKING:
    from posthorn.site import Site


@lru_cache(maxsize=4096)
def _compiled(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error:
        return None


class HeaderMatch(Rule):
    name = "header-match"
    description = "A header matches one of the list's header matches."
    action = "hold"

    def __init__(self, site: Site) -> None:
        super().__init__(site)
        self.matches = DatabaseHeaderMatches.from_site(site)

    def check(self, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]) -> bool:
        matches = self.site.cache.get(
            ("header_matches", mlist.list_id), lambda: self.matches.of(mlist.list_id)
        )
        if not matches:
            return False
        # The headers indexed once, not scanned once per match.
        values: dict[str, list[str]] = {}
        for name, value in msg.items():
            values.setdefault(name.lower(), []).append(str(value))
        for match in matches:
            found = values.get(match.header)
            compiled = _compiled(match.pattern) if found else None
            if compiled is not None and any(compiled.search(value) for value in found or ()):
                if match.chain is not None:
                    set_action(msgdata, match.chain)
                add_reason(msgdata, _("Header '$header' matched '$pattern'"),
                           header=match.header, pattern=match.pattern)  # fmt: skip
                return True
        return False
