"""approved: a post carrying the list's moderator password is accepted unmoderated.

The password may come in an ``Approved:`` or ``Approve:`` header (also ``X-``
prefixed), or as the first non-blank line of the first text/plain part.  Whatever the
outcome, the password is removed from every copy: the headers are deleted and the
pseudo-header line is taken out of every text part that carries it, so subscribers
and archives never see it.  This is the one rule that changes the message, because
the password must be gone before any chain passes the post on.
"""

from __future__ import annotations

import hmac
import re
from email.message import Message
from typing import Any

from posthorn.interfaces.lists import IMailingList
from posthorn.rules import Rule, leading_lines, text_of, text_payload_changed

HEADERS = ("approved", "approve", "x-approved", "x-approve")
_PSEUDO = re.compile(r"^\s*(?:x-)?approved?\s*:\s*(?P<password>\S.*?)\s*$", re.IGNORECASE)


def _first_text_part(msg: Message) -> Message | None:
    for part in msg.walk():
        if part.get_content_maintype() == "multipart":
            continue
        return part if part.get_content_type() == "text/plain" else None
    return None


def _body_password(part: Message) -> tuple[str, str] | None:
    """The password and the exact line holding it, from the first non-blank line."""
    text = text_of(part)
    if text is None:
        return None
    for line in leading_lines(text, 1):
        found = _PSEUDO.match(line)
        return (found.group("password"), line) if found else None
    return None


def _strip_line(msg: Message, line: str) -> None:
    """Remove the pseudo-header line (and one blank line after it) from text parts."""
    for part in msg.walk():
        if part.get_content_maintype() != "text":
            continue
        text = text_of(part)
        if text is None or line not in text:
            continue
        cleaned = re.sub(re.escape(line) + r"\r?\n(?:[ \t]*\r?\n)?", "", text, count=1)
        cleaned = cleaned.replace(line, "")
        # Plain ASCII stays readable (7bit); anything else is re-encoded as UTF-8.
        charset = "us-ascii" if cleaned.isascii() else "utf-8"
        del part["Content-Transfer-Encoding"]
        part.set_payload(cleaned, charset)
        text_payload_changed(part)


class Approved(Rule):
    name = "approved"
    description = "The post carries the list's moderator password."
    action = "accept"

    def check(self, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]) -> bool:
        # One look at the field names; most posts carry none of these.
        names = {name.lower() for name in msg}
        present = [h for h in HEADERS if h in names]
        header_values = [str(v) for h in present for v in msg.get_all(h) or []]
        for header in present:
            del msg[header]
        candidates = [value.strip() for value in header_values]
        part = _first_text_part(msg)
        found = _body_password(part) if part is not None else None
        if found is not None:
            candidates.append(found[0])
            _strip_line(msg, found[1])
        password = mlist.moderator_password
        if not password:
            return False
        expected = password.encode()
        return any(hmac.compare_digest(c.encode(), expected) for c in candidates)
