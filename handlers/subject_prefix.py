"""Put the list's subject prefix in front of the Subject, once.

``subject_prefix`` may contain ``%d``, replaced by the post number (``post_id``, or the
number the post was counted with when its entry is redone, so it never changes).  A
prefix already present (a reply's ``Re: [dev] ...``) is removed before the new one is
added, so replies never collect ``[dev] Re: [dev]``; a numbered prefix is matched with
any number.  Encoded (RFC 2047) subjects are decoded first and re-encoded as needed;
a CR or LF an encoded word decodes to becomes a space (``posthorn.messages.oneline``), so it can
never end the header early.
Reads no msgdata; stores the original subject in ``msgdata["original_subject"]``.
"""

from __future__ import annotations

import re
from email.header import Header
from email.message import Message
from typing import Any

from posthorn.handlers.base import Handler
from posthorn.interfaces.lists import IMailingList
from posthorn.messages.oneline import decoded_header, one_line

__all__ = ["SubjectPrefix", "add_prefix", "decoded_subject", "shows_number"]

# The longest word written as is: with "Subject: " it stays well under 998 octets.
FOLDABLE_WORD = 900
REPLY = re.compile(r"^((re|aw|sv|fwd?|tr)\s*:\s*)+", re.IGNORECASE)


def decoded_subject(msg: Message) -> str:
    """The Subject as one line of text, RFC 2047 words decoded; '' when there is none."""
    raw = msg.get("subject")
    return "" if raw is None else decoded_header(raw)


def shows_number(prefix: str) -> bool:
    """Whether a subject with ``prefix`` shows the post's number (``%d``)."""
    return "%d" in prefix


def _prefix_pattern(prefix: str) -> re.Pattern[str]:
    parts = [re.escape(part) for part in prefix.strip().split("%d")]
    return re.compile(r"\s*" + r"\s*\d+\s*".join(parts) + r"\s*", re.IGNORECASE)


def add_prefix(subject: str, prefix: str, post_id: int) -> str:
    """``subject`` with ``prefix`` in front, no earlier copy of it, reply marks kept."""
    pattern = _prefix_pattern(prefix)
    text = subject.strip()
    reply = ""
    for _ in range(3):
        text = pattern.sub(" ", text, count=1).strip() if pattern.match(text) else text
        match = REPLY.match(text)
        if match:
            reply = "Re: "
            text = text[match.end() :].strip()
        if not pattern.match(text):
            break
    if not text:
        text = "(no subject)"
    rendered = prefix.replace("%d", str(post_id)) if shows_number(prefix) else prefix
    return f"{rendered.rstrip()} {reply}{text}"


class SubjectPrefix(Handler):
    name = "subject-prefix"
    description = "Add the list's subject prefix, once, with the post number if asked."

    def process(self, mlist: IMailingList, msg: Message, msgdata: dict[str, Any]) -> None:
        # Settings are checked when written; a value stored before that still must
        # not break the header.
        prefix = one_line(mlist.subject_prefix)
        if not prefix.strip():
            return
        subject = decoded_subject(msg)
        msgdata.setdefault("original_subject", subject)
        # Runners may hand handlers a list looked up a moment ago; the number must be
        # this post's, so it is read afresh (only when the prefix shows it).
        post_id = self._number(mlist, msg) if shows_number(prefix) else mlist.post_id
        new = add_prefix(subject, prefix, post_id)
        del msg["subject"]
        # A word too long to fold (encoded words decoded into one) is written as
        # encoded words again, which fold at any length.
        if new.isascii() and max(len(word) for word in new.split()) <= FOLDABLE_WORD:
            msg["Subject"] = new
        else:
            msg["Subject"] = Header(new, "utf-8", header_name="Subject")  # type: ignore[assignment]

    def _number(self, mlist: IMailingList, msg: Message) -> int:
        message_id = msg.get("message-id")
        return self.site.lists.post_number(mlist, str(message_id) if message_id else None)
