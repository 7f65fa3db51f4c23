"""suspicious-header: a header matches the list's ``bounce_matching_headers``.

The setting holds ``Header: regex`` lines (GNU Mailman's format; ``#`` starts a
comment line); any match holds the post.  A line whose regex does not compile is
ignored, not treated as matching everything.
"""

from __future__ import annotations

import re
from email.message import Message
from typing import Any

from posthorn.i18n import _
from posthorn.interfaces.lists import IMailingList
from posthorn.rules import Rule, add_reason


def header_matches(msg: Message, header: str, pattern: str) -> bool:
    try:
        compiled = re.compile(pattern, re.IGNORECASE)
    except re.error:
        return False
    return any(compiled.search(str(value)) for value in msg.get_all(header) or [])


class SuspiciousHeader(Rule):
    name = "suspicious-header"
    description = "A header matches one of the list's suspicious-header patterns."
    action = "hold"

    def check(self, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]) -> bool:
        for line in mlist.bounce_matching_headers.splitlines():
            header, sep, pattern = line.partition(":")
            if not sep or line.lstrip().startswith("#") or not pattern.strip():
                continue
            if header_matches(msg, header.strip(), pattern.strip()):
                add_reason(msgdata, _("The message has a suspicious header: $header"),
                           header=header.strip())  # fmt: skip
                return True
        return False
